/** The link model lives in the scenario contract (scenario/links.ts); the engines import it from here. */
import type { LinkImpairment } from '../scenario/links.js';

export type { GilbertElliott, JitterDistribution, LinkImpairment, LinkSpec } from '../scenario/links.js';

export function isImpaired(i: LinkImpairment): boolean {
  return Object.values(i).some((v) => v !== undefined);
}
