/**
 * Run a netab command inside a stock Debian kernel under qemu, for real sch_netem where the host
 * kernel has none. `vmSetup` prepares the cache, `vmRun` boots + runs + powers off, `vmDoctor` reports.
 * See docs/vm.md.
 */
export { vmSetup } from './setup.js';
export { loadVmImage } from './cache.js';
export { REQUIRED_PACKAGES } from './apt.js';
export { vmRun, guestEnv } from './run.js';
export { vmDoctor, formatVmDoctor, type VmDoctorReport } from './doctor.js';
export { resolveCacheDir } from './paths.js';
export {
  VmError,
  type Accelerator,
  type BootProbe,
  type KernelFormat,
  type Machine,
  type VmErrorCode,
  type VmImage,
  type VmRunOptions,
  type VmRunResult,
  type VmSetupOptions,
} from './types.js';
