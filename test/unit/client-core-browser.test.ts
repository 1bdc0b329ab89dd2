import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build, type Plugin } from 'vite';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/server.js';

/** Every module a browser bundle of `entry` imports that only Node has (built-ins, the `ws` package). */
async function nodeOnlyImports(entry: string): Promise<string[]> {
  const found = new Set<string>();
  const nodeOnly = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`), 'ws']);
  const watch: Plugin = {
    name: 'node-only-imports',
    enforce: 'pre',
    resolveId(source) {
      if (!nodeOnly.has(source)) return null;
      found.add(source);
      return { id: source, external: true };
    },
  };
  await build({
    configFile: false,
    logLevel: 'silent',
    root: REPO_ROOT,
    plugins: [watch],
    build: { write: false, lib: { entry, formats: ['es'], fileName: 'core' }, minify: false },
  });
  return [...found].sort();
}

// A real bundle build: seconds on a quiet machine, far more on a loaded one.
describe('the SDK core (countersign/client/core)', () => {
  it('bundles for the browser without a Node built-in or the ws package', async () => {
    expect(await nodeOnlyImports(join(REPO_ROOT, 'src/client/core.ts'))).toEqual([]);
  }, 120_000);
});
