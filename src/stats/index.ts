/**
 * netab's statistics library: small, documented functions verified against R and scipy
 * (test/unit/stats-*.test.ts, fixtures from scripts/stats-fixtures.py).
 */
export { normPdf, normCdf, normSf, normQuantile, normIsf } from './normal.js';
export { midranks, tieSum, median, medianSorted, sortNumbers, type Ranking } from './ranks.js';
export {
  signedRankPmf,
  signedRankCdf,
  signedRankSfGe,
  signedRankQuantile,
  signedRankTest,
  signedRankInterval,
  signedRankConditionalPmf,
  walshAverages,
  hodgesLehmannOneSample,
  invertStepStatistic,
  EXACT_LIMIT,
  type Alternative,
  type RankTestOptions,
  type RankTestResult,
  type LocationInterval,
} from './signedrank.js';
export {
  rankSumPmf,
  rankSumConditionalPmf,
  rankSumCdf,
  rankSumSfGe,
  rankSumQuantile,
  rankSumTest,
  rankSumInterval,
  pairwiseDifferences,
  hodgesLehmannTwoSample,
} from './ranksum.js';
export { holm, consecutiveBonferroni } from './multiplicity.js';
export { fisherExact, type FisherResult } from './fisher.js';
export { assertFinite, assertFiniteNumber, assertOpenUnit } from './check.js';
export { cliffsDelta } from './effect.js';
export { regularizedBeta, studentTSf, studentTCdf } from './special.js';
export { spearman, theilSenSlope, type CorrelationTest } from './correlation.js';
export { hwangShihDeCani, obrienFleming, pocock, defaultSpending, lookAlpha, type SpendingFunction } from './spending.js';
export { mulberry32, normalSource } from './random.js';
export { sampleSd } from './descriptive.js';
