/** Where the VM cache lives, and its layout. */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** Bump when the cache layout or the guest scripts' contract changes. */
export const CACHE_FORMAT = 1;

/** option > $NETAB_VM_CACHE > $XDG_CACHE_HOME/netab/vm > ~/.cache/netab/vm */
export function resolveCacheDir(option?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (option) return resolve(option);
  if (env.NETAB_VM_CACHE) return resolve(env.NETAB_VM_CACHE);
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'netab', 'vm');
  return join(env.HOME || homedir(), '.cache', 'netab', 'vm');
}

/**
 * <cache>/image.json                      the prepared image (written last; its stamp makes setup a no-op)
 * <cache>/setup.lock                      held while vmSetup works
 * <cache>/download/                       apt-get download's working dir (the .deb is removed after unpacking)
 * <cache>/kernel/<release>/root/          the unpacked linux-image package (boot/, lib/modules/<release>/ + depmod)
 * <cache>/kernel/<release>/vmlinux        the uncompressed kernel (when it has the PVH note)
 * <cache>/kernel/<release>/initramfs.cpio busybox + modules + /init (newc, uncompressed)
 */
export function cachePaths(cacheDir: string) {
  return {
    image: join(cacheDir, 'image.json'),
    lock: join(cacheDir, 'setup.lock'),
    download: join(cacheDir, 'download'),
    kernels: join(cacheDir, 'kernel'),
    kernelDir: (release: string) => join(cacheDir, 'kernel', release),
  };
}
