import { defineConfig } from 'vitest/config';

/**
 * Test levels (STYLE.md): unit tests sit next to the code; integration tests run against real
 * Mosquitto, InfluxDB and SQLite started by test/harness on free loopback ports; e2e tests start
 * the whole system as `npm start` does and drive Debian's Chromium.
 */
export default defineConfig({
  test: {
    projects: [
      './dashboard/vitest.config.ts',
      {
        test: {
          name: 'unit',
          include: ['contract/src/**/*.test.ts', 'ingest/src/**/*.test.ts', 'simulators/src/**/*.test.ts', 'bench/**/*.test.ts', 'scripts/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Each file starts its own servers; two cores do not take more than two at a time.
          maxWorkers: 2,
          // Groups run one after another: unit tests first, then each kind of server-backed suite.
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'chaos',
          sequence: { groupOrder: 2 },
          include: ['test/chaos/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          sequence: { groupOrder: 3 },
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
