// Plain ESM (no TypeScript) so the bundle build script can run it before anything is compiled.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/**
 * Whether a file under policies/ is part of the policy (and so of the bundle and its revision).
 * Tests and their data (`*_test.rego`, `*_test.json`) are not; scripts/build-bundle.sh ignores
 * the same names.
 * @param {string} name
 */
export function isPolicySource(name) {
  return /\.(rego|json|ya?ml)$/.test(name) && !/_test\.(rego|json|ya?ml)$/.test(name);
}

function policySourceFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...policySourceFiles(path));
    else if (isPolicySource(entry.name)) files.push(path);
  }
  return files;
}

/**
 * The revision of the policy sources under `dir`: `sha256:` + the first 16 hex digits of a
 * digest over each source file's relative path and content, in a stable order.
 * @param {string} dir
 * @returns {string}
 */
export function policyRevision(dir) {
  const digest = createHash('sha256');
  const files = policySourceFiles(dir)
    .map((file) => ({ file, name: relative(dir, file).split(sep).join('/') }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { file, name } of files) {
    digest.update(name).update('\0').update(readFileSync(file)).update('\0');
  }
  return `sha256:${digest.digest('hex').slice(0, 16)}`;
}
