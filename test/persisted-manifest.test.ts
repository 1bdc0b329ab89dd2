import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Kind, parse } from 'graphql';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import config from '../scripts/codegen.js';
import * as generated from '../src/client/generated/graphql.js';
import { PERSISTED_OPERATIONS } from '../src/client/generated/persisted-operations.js';
import { REPO_ROOT } from './support/server.js';

// Everything that sends GraphQL to a server: the SDK, the CLI, the MCP transports (through the
// SDK) and the web inbox. A document any of them sends must be in the persisted-operations
// manifest, or it fails against a server with COUNTERSIGN_PERSISTED_ONLY=true.
const CLIENT_SOURCES = ['src/client', 'src/cli', 'src/transports/mcp', 'web/src'];
const GENERATED = join('src', 'client', 'generated');

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function sourceFiles(folder: string): string[] {
  return readdirSync(join(REPO_ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => relative(REPO_ROOT, join(entry.parentPath, entry.name)))
    .filter((file) => !file.startsWith(GENERATED));
}

interface Found {
  file: string;
  line: number;
  text: string;
  interpolated: boolean;
}

/** The text of a string or template literal that graphql-js reads as an operation, if it is one. */
function operationText(node: ts.Node): { text: string; interpolated: boolean } | null {
  let text: string;
  let interpolated = false;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) text = node.text;
  else if (ts.isTemplateExpression(node)) {
    // A fragment spliced in at run time; a field name in its place lets the rest parse.
    text = node.head.text + node.templateSpans.map((span) => ` interpolated ${span.literal.text}`).join('');
    interpolated = true;
  } else return null;
  // A named operation, or a shorthand query with a nested selection (`{ a { b } }`); a lone `{id}`
  // (a URL template, a JSX label) parses too, but no client sends that.
  if (!/^\s*(query|mutation|subscription)\b|^\s*\{[^{}]*\{/.test(text)) return null;
  try {
    return parse(text).definitions.some((definition) => definition.kind === Kind.OPERATION_DEFINITION) ? { text, interpolated } : null;
  } catch {
    return null;
  }
}

/** Every GraphQL operation written inline in the clients' sources, and every generated document they use. */
function walkClients(): { inline: Found[]; documents: Set<string> } {
  const inline: Found[] = [];
  const documents = new Set<string>();
  for (const file of CLIENT_SOURCES.flatMap(sourceFiles)) {
    const source = ts.createSourceFile(file, readFileSync(join(REPO_ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const visit = (node: ts.Node): void => {
      const found = operationText(node);
      if (found) inline.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, ...found });
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier) && node.moduleSpecifier.text.endsWith('generated/graphql.js')) {
        const bindings = node.importClause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) {
          for (const element of bindings.elements) if (element.name.text.endsWith('Document')) documents.add(element.name.text);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { inline, documents };
}

describe('the persisted-operations manifest', () => {
  const { inline, documents } = walkClients();

  it('holds every operation of the SDK documents codegen reads', () => {
    const documentFiles = ([] as string[]).concat(config.documents as string | string[]);
    const names = documentFiles.flatMap((file) =>
      parse(readFileSync(join(REPO_ROOT, file), 'utf8')).definitions.flatMap((definition) =>
        definition.kind === Kind.OPERATION_DEFINITION && definition.name ? [definition.name.value] : [],
      ),
    );
    expect(names.length).toBeGreaterThan(10);
    const manifestNames = Object.values(PERSISTED_OPERATIONS).flatMap((text) =>
      parse(text).definitions.flatMap((definition) => (definition.kind === Kind.OPERATION_DEFINITION && definition.name ? [definition.name.value] : [])),
    );
    expect(manifestNames.sort()).toEqual([...names].sort());
  });

  it('holds every generated document the SDK, the CLI, the MCP transports and the inbox import', () => {
    // The SDK's own methods, the CLI's notification commands among them, reach the server through these.
    expect(documents).toContain('RequestApprovalDocument');
    expect(documents).toContain('NotificationDeliveriesDocument');
    const table = generated as unknown as Record<string, unknown>;
    const missing = [...documents].filter((name) => !(String(table[name]) && sha256(String(table[name])) in PERSISTED_OPERATIONS));
    expect(missing).toEqual([]);
  });

  it('leaves no operation written inline in a client, where the manifest cannot hold it', () => {
    // An inline document is sent as text, which a persisted-only server refuses; unless its exact
    // text is in the manifest (never so when a fragment is spliced in), it must move to operations.graphql.
    const unpersisted = inline
      .filter((found) => found.interpolated || !(sha256(found.text) in PERSISTED_OPERATIONS))
      .map((found) => `${found.file}:${found.line}`);
    expect(unpersisted).toEqual([]);
  });
});
