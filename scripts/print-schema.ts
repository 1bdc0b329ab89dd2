// Prints the code-first schema to schema.graphql (or checks it with --check).
import { readFileSync, writeFileSync } from 'node:fs';
import { printedSchema } from '../src/transports/graphql/index.js';

const file = new URL('../schema.graphql', import.meta.url);
const printed = printedSchema();
if (process.argv.includes('--check')) {
  if (readFileSync(file, 'utf8') !== printed) {
    console.error('schema.graphql is stale: run npm run schema:print');
    process.exit(1);
  }
} else {
  writeFileSync(file, printed);
}
