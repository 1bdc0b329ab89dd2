import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../scripts/codegen.js';
import { MANIFEST_PATH, persistedManifest } from '../scripts/persisted-manifest.js';
import { REPO_ROOT } from './support/server.js';

describe('the generated SDK operation types', () => {
  it('are what GraphQL Code Generator makes of schema.graphql and the SDK documents (run npm run codegen when this fails)', async () => {
    const outputs = await generate({ ...config, cwd: REPO_ROOT, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(readFileSync(join(REPO_ROOT, output.filename), 'utf8'), output.filename).toBe(output.content);
    }
  });

  it('include the persisted-operations manifest of those documents (run npm run codegen when this fails)', () => {
    expect(readFileSync(join(REPO_ROOT, MANIFEST_PATH), 'utf8')).toBe(persistedManifest());
  });
});
