import { defineConfig } from 'vitest/config';

// Integration tests share the machine's namespaces, CPU and iperf3 ports: run files one at a time.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
