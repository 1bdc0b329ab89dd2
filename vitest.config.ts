import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS (main) and ESM (module). Node loads the CommonJS build for the
    // libraries (Pothos, yoga); Vite would hand our sources the ESM build, and graphql refuses
    // types from "another realm". Resolve it the way Node does.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    // The compiled command line the suites spawn; PostgreSQL and Redis for the multi-instance
    // suites, unless the test command started them.
    globalSetup: ['test/support/global-cli.ts', 'test/support/global-services.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests each start a real server; two cores, so keep parallelism modest.
    maxWorkers: 2,
    // Each worker loads the modules once for all the files it runs, instead of once per file:
    // importing the server's graph (yoga, Pothos, MikroORM, the MCP SDK...) cost each file
    // seconds of CPU. No suite depends on fresh module state: every server, database, clock and
    // change feed is made per suite, and the suites that fake timers restore them.
    isolate: false,
  },
});
