/** The link model lives in the scenario contract (scenario/links.ts); the engines import it from here. */
export type { JitterDistribution, LinkImpairment } from '../scenario/links.js';
