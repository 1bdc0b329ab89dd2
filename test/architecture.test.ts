import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layout is the architecture (ARCHITECTURE.md): these checks keep it from drifting back into
// one file, or into imports that run up the layers, without anyone noticing in review.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_LINES = 350;

function sourceFiles(folder: string): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'generated') walk(path);
      } else if (/\.tsx?$/.test(entry.name)) {
        files.push(path);
      }
    }
  };
  walk(join(root, folder));
  return files;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The project files one file imports (relative specifiers, resolved to the .ts file). */
function importsOf(file: string): string[] {
  const found: string[] = [];
  for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2]!;
    if (!specifier.startsWith('.')) continue;
    const base = resolve(dirname(file), specifier).replace(/\.js$/, '');
    const target = [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')].find((candidate) => existsSync(candidate));
    if (target) found.push(target);
  }
  return found;
}

/** Strongly connected groups of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) groups.push(group.map((file) => relative(root, file)).sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return groups;
}

const srcFiles = sourceFiles('src');
const graph = new Map(srcFiles.map((file) => [file, importsOf(file)]));
const layerOf = (file: string): string => relative(join(root, 'src'), file).split(sep)[0]!.replace(/\.ts$/, '');

/** What each layer may import besides itself; anything else runs up or across the layers. */
const ALLOWED: Record<string, readonly string[]> = {
  domain: [],
  policy: ['domain'],
  db: ['domain'],
  // The feed carries the use cases' change shape (types only: ApprovalChange and its view).
  feed: ['domain', 'app'],
  app: ['domain', 'policy', 'db', 'feed'],
  notify: ['domain', 'db', 'feed', 'app', 'env'],
  client: ['domain'],
};

describe('source layout', () => {
  it(`keeps every source file under ${MAX_LINES} lines`, () => {
    const long = [...srcFiles, ...sourceFiles('scripts'), ...sourceFiles('web/src')]
      .map((file) => ({ file: relative(root, file), lines: readFileSync(file, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });

  it('has no import cycle but the bidirectional entity relations', () => {
    const entityRelation = (group: string[]): boolean => group.every((file) => file.startsWith('src/db/entities/'));
    expect(cycles(graph).filter((group) => !entityRelation(group))).toEqual([]);
  });

  it('imports only down the layers', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      const allowed = ALLOWED[from];
      if (!allowed) continue;
      for (const target of targets) {
        const to = layerOf(target);
        if (to !== from && !allowed.includes(to)) upward.push(`${relative(root, file)} -> ${relative(root, target)}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('finds the imports it checks', () => {
    // Guards the checks above against a parser that silently sees nothing.
    const app = graph.get(join(root, 'src/app/request-approval.ts'));
    expect(app?.some((target) => target.includes(`${sep}domain${sep}`))).toBe(true);
    expect(cycles(new Map([['a', ['b']], ['b', ['a']], ['c', ['a']]]))).toHaveLength(1);
  });
});
