import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Scaffolded framework projects installed from tarballs: `npm run test:frameworks`.
    exclude: ['test/frameworks/**', '**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Builds are CPU-bound (sharp); two cores run two test files at once at most.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
