// GraphQL Code Generator: the SDK's operation types and typed documents, from schema.graphql and
// the SDK's documents (npm run codegen; test/codegen.test.ts fails when the output is stale).
// Paths are relative to the repository root, where npm runs it.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['src/client/operations.graphql'],
  emitLegacyCommonJSImports: false,
  generates: {
    'src/client/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        // Documents are plain strings: nothing to print per request, and no graphql runtime in the browser.
        documentMode: 'string',
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
        scalars: { DateTime: 'string', JSON: 'unknown', ID: 'string' },
        strictScalars: true,
        avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
      },
    },
  },
};

export default config;
