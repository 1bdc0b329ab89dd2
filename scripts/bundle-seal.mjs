// `node scripts/bundle-seal.mjs seal DIR`: records the digests of DIR's policy.wasm and data.json
// in DIR/.manifest. `node scripts/bundle-seal.mjs check DIR REVISION`: exits 0 only when DIR holds
// a bundle of that revision whose files match the recorded digests (so the build can be skipped).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sealBundle, sealProblem, SEALED_FILES } from '../src/policy/bundle-seal.mjs';

const [command, dir, revision] = process.argv.slice(2);
if (command === 'seal' && dir) {
  sealBundle(dir);
} else if (command === 'check' && dir && revision) {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, '.manifest'), 'utf8'));
    const files = Object.fromEntries(SEALED_FILES.map((name) => [name, readFileSync(join(dir, name))]));
    process.exitCode = manifest.revision === revision && !sealProblem(manifest, files) ? 0 : 1;
  } catch {
    process.exitCode = 1;
  }
} else {
  console.error('usage: bundle-seal.mjs seal DIR | check DIR REVISION');
  process.exitCode = 2;
}
