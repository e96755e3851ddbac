/** The topology backend of a scenario, chosen once. */
import type { Scenario } from '../scenario/model.js';
import type { TopologyBackend } from './types.js';

export async function backendFor(s: Scenario): Promise<TopologyBackend> {
  // loaded only for docker runs: netns runs never touch dockerode
  if (s.backend === 'docker') return (await import('./docker/index.js')).dockerBackend;
  return (await import('./netns/index.js')).netnsBackend;
}
