/** The `aqm:` key of a link direction: active queue management of the bottleneck queue. */
import { z } from 'zod/v4';
import { Buffer, Percent } from './schema-units.js';

export const Aqm = z
  .object({
    type: z.literal('red').describe('RED (the only type for now)'),
    ecn: z.boolean().optional().describe('mark ECN-capable packets (CE) instead of dropping them (default false: RED drops)'),
    min: Buffer.optional().describe('average queue where marking starts (default buffer/6)'),
    max: Buffer.optional().describe('average queue where the probability reaches `probability` (default buffer/2)'),
    probability: Percent.optional().describe('marking probability at `max` (default 10%)'),
  })
  .strict()
  .describe('active queue management on the bottleneck queue (needs a rate)');
