/**
 * Run a netab command inside a stock Debian kernel under qemu, for real sch_netem where the host
 * kernel has none. `vmSetup` prepares the cache, `vmRun` boots + runs + powers off, `vmDoctor` reports.
 * See docs/vm.md.
 */
export { vmSetup } from './setup.js';
export { loadVmImage } from './cache.js';
export { vmRun } from './run.js';
export { vmDoctor, formatVmDoctor } from './doctor.js';
export { VmError, type VmImage } from './types.js';
