import { defineConfig } from 'vitest/config';

// Integration tests share the machine's namespaces, CPU and iperf3 ports: run files one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // one scratch directory per run for every test's temp files, removed at the end
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
