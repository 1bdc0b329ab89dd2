import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './errors.js';
import './approval.js';
import './decide-many.js';
import './execution.js';
import './reissue-token.js';
import './audit.js';
import './tenant-settings.js';
import './notifications.js';
import './revocations.js';
import './subscriptions.js';

export type { Context } from './context.js';

/** The executable schema, built once from the code-first types. */
export const schema: GraphQLSchema = builder.toSchema();

/** The SDL committed as schema.graphql. */
export function printedSchema(): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
