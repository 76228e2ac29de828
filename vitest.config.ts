import { defineConfig } from 'vitest/config';

// Node tests of the JS API (tests/web/*.test.ts) and headless-Chromium tests
// of the page (tests/web/browser/*.test.ts), run by `npm test`.
export default defineConfig({
  test: {
    include: ['tests/web/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // One browser at a time on a 2-core machine.
    fileParallelism: false,
  },
});
