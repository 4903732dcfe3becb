import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a stale dist/ never hides a change.
    alias: [
      { find: /^@weir\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@weir\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@weir\/operators$/, replacement: src('./packages/operators/src/index.ts') },
      { find: /^@weir\/connectors$/, replacement: src('./packages/connectors/src/index.ts') },
      { find: /^@weir\/ml$/, replacement: src('./packages/ml/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'benchmarks/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.typetests.json',
    },
  },
});
