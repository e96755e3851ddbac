/**
 * netab's statistics library: small, documented functions verified against R and scipy
 * (test/unit/stats-*.test.ts, fixtures from scripts/stats-fixtures.py).
 */
export { normPdf, normCdf, normSf, normQuantile, normIsf } from './normal.js';
export { midranks, tieSum, median, medianSorted } from './ranks.js';
export {
  signedRankCdf,
  signedRankQuantile,
  signedRankTest,
  signedRankInterval,
  walshAverages,
  hodgesLehmannOneSample,
  invertStepStatistic,
  EXACT_LIMIT,
  type LocationInterval,
} from './signedrank.js';
export { rankSumCdf, rankSumQuantile, rankSumTest, rankSumInterval, pairwiseDifferences, hodgesLehmannTwoSample } from './ranksum.js';
export { holm, consecutiveBonferroni } from './multiplicity.js';
export { fisherExact } from './fisher.js';
('./check.js');
export { cliffsDelta } from './effect.js';
export { studentTSf } from './special.js';
export { spearman } from './correlation.js';
export { theilSenSlope } from './theilsen.js';
export { obrienFleming, lookAlpha } from './spending.js';
export { mulberry32, normalSource } from './random.js';
export { sampleSd } from './descriptive.js';
