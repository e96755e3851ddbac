/**
 * netab's house rules for imports (checked in .ci/run by `npm run lint`).
 * Layers, top to bottom; a module may import only its own layer or the layers below it:
 *   cli -> api (src/api.ts, src/api) -> vm, trial -> topology, impairment, tuning, workload -> exec
 *   judge, report -> results (the run-directory layer) -> stats
 *   scenario (the contract: types, loading, validation) is imported by everyone, imports only the base
 *   base: errors.ts, version.ts, paths/util, stats
 * One library per boundary: execa only in src/exec, dockerode only in src/topology/docker,
 * handlebars only in src/report, zx only in scripts/bench (never in src).
 */
const layer = (name, mayImport) => ({
  name: `layer-${name}`,
  comment: `src/${name} may import only ${mayImport.join(', ')}`,
  severity: 'error',
  from: { path: `^src/${name}/` },
  to: { path: '^src/', pathNot: [`^src/${name}/`, ...mayImport.map((m) => `^src/${m}(/|\\.ts$)`)] },
});
const BASE = ['errors', 'version', 'paths', 'util', 'stats', 'host'];
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles, type-only imports included', from: {}, to: { circular: true } },
    { name: 'not-to-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true } },
    { name: 'execa-only-in-exec', severity: 'error', from: { pathNot: '^src/exec/' }, to: { path: 'node_modules/execa/' } },
    { name: 'dockerode-only-in-docker', severity: 'error', from: { pathNot: '^src/topology/docker/' }, to: { path: 'node_modules/(dockerode|docker-modem)/' } },
    { name: 'handlebars-only-in-report', severity: 'error', from: { pathNot: '^src/report/' }, to: { path: 'node_modules/handlebars/' } },
    { name: 'zx-not-in-src', severity: 'error', from: { path: '^src/' }, to: { path: 'node_modules/zx/' } },
    layer('stats', []),
    layer('exec', ['errors', 'version', 'paths', 'util']),
    layer('scenario', BASE),
    layer('results', [...BASE, 'scenario']),
    layer('judge', [...BASE, 'scenario', 'results']),
    layer('report', [...BASE, 'scenario', 'results', 'judge']),
    layer('tuning', [...BASE, 'scenario', 'exec']),
    layer('topology', [...BASE, 'scenario', 'exec']),
    layer('impairment', [...BASE, 'scenario', 'exec', 'topology']),
    layer('workload', [...BASE, 'scenario', 'exec', 'results']),
    layer('trial', [...BASE, 'scenario', 'exec', 'results', 'topology', 'impairment', 'tuning', 'workload', 'judge']),
    layer('vm', [...BASE, 'scenario', 'exec', 'results']),
    layer('rollout', [...BASE, 'scenario', 'exec', 'results', 'judge', 'report', 'tuning']),
    {
      name: 'layer-cli',
      comment: 'src/cli may import only src/api.ts, src/errors.ts, src/version.ts, src/cli and types from src/scenario and src/results',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/', pathNot: ['^src/cli/', '^src/api\\.ts$', '^src/errors\\.ts$', '^src/version\\.ts$', '^src/(scenario|results)/'] },
    },
    {
      name: 'cli-types-only',
      comment: 'src/cli takes only types from src/scenario and src/results (the API loads and runs)',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/(scenario|results)/', dependencyTypesNot: ['type-only'] },
    },
    { name: 'layer-api', comment: 'src/api.ts and src/api may import everything but src/cli', severity: 'error', from: { path: '^src/api(/|\\.ts$)' }, to: { path: '^src/cli/' } },
    {
      name: 'api-entry-lean',
      comment:
        'src/api.ts loads the pipeline, engines, judge, report and VM only when a function is called (dynamic import): `netab judge`, `report` and `--help` start without the trial pipeline (0.5 s less per command)',
      severity: 'error',
      from: { path: '^src/api\\.ts$' },
      to: {
        path: '^src/(api/(run|preflight|vm|doctor|judge)|trial|topology|impairment|workload|tuning|vm|exec|rollout|judge|report)(/|\\.ts$)',
        dependencyTypesNot: ['type-only', 'dynamic-import'],
      },
    },
    {
      name: 'helpers-lean',
      comment:
        'the processes netab starts per link or trial (the relay and its sender thread, the transfer and http tools, the probe) never load the scenario parsers: yaml and zod cost ~90 ms of every start',
      severity: 'error',
      from: { path: '^src/.+-(main|worker)\\.ts$' },
      to: { path: 'node_modules/(yaml|zod)/', reachable: true },
    },
    {
      name: 'api-judge-lean',
      comment: 'judging and merging stored runs (src/api/judge.ts) never load the trial pipeline, topologies or engines',
      severity: 'error',
      from: { path: '^src/api/(judge|errors)\\.ts$' },
      to: { path: '^src/(api/(run|preflight|vm|doctor)|trial|topology|impairment|workload|tuning|vm|exec)(/|\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    exclude: { path: '^dist/' },
  },
};
