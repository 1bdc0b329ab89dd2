// Plain ESM (no TypeScript) so the bundle build script can run it before anything is compiled.
// The seal binds a bundle's manifest to the bytes that run: scripts/build-bundle.sh records the
// SHA-256 of policy.wasm and data.json in .manifest (metadata.countersign.files), and the
// evaluator recomputes both at every load and refuses a bundle whose files differ.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The bundle files whose digests the manifest records. */
export const SEALED_FILES = ['policy.wasm', 'data.json'];

/**
 * `sha256:` and the hex SHA-256 of some bytes.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function fileDigest(bytes) {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * The digests a parsed manifest records, or undefined when it records none.
 * @param {unknown} manifest
 * @returns {Record<string, string> | undefined}
 */
export function sealedDigests(manifest) {
  const metadata = manifest && typeof manifest === 'object' ? /** @type {any} */ (manifest).metadata : undefined;
  const files = metadata && typeof metadata === 'object' ? metadata.countersign?.files : undefined;
  if (!files || typeof files !== 'object') return undefined;
  return Object.fromEntries(Object.entries(files).filter(([, digest]) => typeof digest === 'string'));
}

/**
 * The first sealed file whose bytes differ from the manifest's digest (or that the manifest does
 * not name), as a sentence; undefined when every file matches.
 * @param {unknown} manifest
 * @param {Record<string, Uint8Array>} files
 * @returns {string | undefined}
 */
export function sealProblem(manifest, files) {
  const digests = sealedDigests(manifest);
  if (!digests) return '.manifest records no digests of the bundle files; build the bundle with npm run bundle';
  for (const name of SEALED_FILES) {
    const bytes = files[name];
    if (!bytes) return `${name} is missing`;
    if (!digests[name]) return `.manifest records no digest of ${name}`;
    const actual = fileDigest(bytes);
    if (actual !== digests[name]) return `${name} (${actual}) is not the file .manifest was built with (${digests[name]})`;
  }
  return undefined;
}

/**
 * Records the digests of the sealed files of the bundle folder `dir` in its .manifest.
 * @param {string} dir
 */
export function sealBundle(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, '.manifest'), 'utf8'));
  const files = Object.fromEntries(SEALED_FILES.map((name) => [name, fileDigest(readFileSync(join(dir, name)))]));
  manifest.metadata = { ...manifest.metadata, countersign: { ...manifest.metadata?.countersign, files } };
  writeFileSync(join(dir, '.manifest'), JSON.stringify(manifest));
}
