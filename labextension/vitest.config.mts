import { defineConfig } from 'vitest/config';

// The data layer is plain TypeScript, so the tests run in node without a DOM.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['src/__tests__/**/*.test.ts']
  }
});
