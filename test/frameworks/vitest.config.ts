import { defineConfig } from 'vitest/config';

// `npm run test:frameworks`: projects scaffolded by each framework's own tool, installed from packed tarballs.
// Each file installs its own projects (downloads come from one shared npm cache), so two run at once at most.
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/frameworks/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 900_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
