import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run against the sources, so a stale dist/ never hides a change.
    alias: [
      { find: /^@weir\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@weir\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@weir\/operators$/, replacement: src('./packages/operators/src/index.ts') },
      { find: /^@weir\/connectors\/testing$/, replacement: src('./packages/connectors/src/testing/index.ts') },
      { find: /^@weir\/connectors$/, replacement: src('./packages/connectors/src/index.ts') },
      { find: /^@weir\/ml$/, replacement: src('./packages/ml/src/index.ts') },
    ],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Integration tests against real services are `*.it.test.ts` in their own projects, whose global
    // setup (starting a Kafka broker) runs only when one of their files is selected: `vitest run
    // packages/core` stays fast and broker-free. They run after the unit tests (groupOrder).
    // (`include`/`typecheck` live in the projects: `extends` concatenates arrays.)
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts', 'benchmarks/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, '**/*.it.test.ts'],
          typecheck: {
            enabled: true,
            include: ['packages/*/test/**/*.test-d.ts'],
            tsconfig: './tsconfig.typetests.json',
          },
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'kafka',
          include: ['packages/connectors/test/kafka/**/*.it.test.ts', 'examples/test/**/*.it.test.ts'],
          globalSetup: ['./packages/connectors/test/kafka/global-setup.ts'],
          typecheck: { enabled: false, include: ['packages/connectors/test/kafka/**/*.it.test-d.ts'] },
          testTimeout: 240_000,
          hookTimeout: 240_000,
          maxWorkers: 1,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
