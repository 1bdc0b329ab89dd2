/**
 * Vitest global setup: compiles src/ once per run into a folder of plain JavaScript, the layout
 * `npm run build` gives dist/, so the suites run the command line as `node <compiled>/cli/main.js`.
 * Under `node --import tsx` every child process paid tsx's loader thread, one round trip per
 * module, and a second transform of each file: about a second of CPU per command, and the suites
 * run dozens of commands. The folder sits inside the repository so that the compiled files find
 * node_modules as the sources do; a rerun in watch mode compiles again.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { transformWithEsbuild } from 'vite';
import type { TestProject } from 'vitest/node';

const root = resolve(import.meta.dirname, '..', '..');
const sources = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Transpiles every module of src/ (tests aside) into `out`, file for file; copies the `.mjs` ones. */
async function compile(out: string): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  await Promise.all(
    files(sources).map(async (file) => {
      const target = join(out, relative(sources, file));
      if (file.endsWith('.mjs')) {
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(file, target);
        return;
      }
      if (!file.endsWith('.ts') || file.endsWith('.test.ts') || file.endsWith('.d.ts')) return;
      // The same esbuild transform tsx applies, reading tsconfig.json the same way.
      const { code } = await transformWithEsbuild(readFileSync(file, 'utf8'), file, { loader: 'ts', format: 'esm', target: 'node20', sourcemap: false });
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target.replace(/\.ts$/, '.js'), code);
    }),
  );
}

export default async function setup(project: TestProject): Promise<() => void> {
  const out = join(root, 'node_modules', '.cache', `countersign-test-cli-${randomBytes(4).toString('hex')}`);
  await compile(out);
  process.env['COUNTERSIGN_TEST_CLI'] = join(out, 'cli', 'main.js');
  project.onTestsRerun(() => compile(out));
  return () => rmSync(out, { recursive: true, force: true });
}
