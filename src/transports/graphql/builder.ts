import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import { ForbiddenError, InvalidInputError, UnauthenticatedError } from '../../domain/errors.js';
import { GraphQLError, Kind, type ValueNode } from 'graphql';
import type { Context } from './context.js';

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

const capitalize = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

const literalPath = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

/**
 * A JSON literal written in the document; numbers must mean exactly what they say (I-JSON). The
 * recursion is safe: the document's nesting is bounded before graphql-js parses it (limits.ts).
 */
function parseJsonLiteral(node: ValueNode, variables: Record<string, unknown> | null | undefined, path = '$'): unknown {
  switch (node.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return node.value;
    case Kind.INT:
    case Kind.FLOAT: {
      const value = Number(node.value);
      if (!Number.isFinite(value) || (Number.isInteger(value) && Math.abs(value) > Number.MAX_SAFE_INTEGER)) {
        throw new GraphQLError(
          `Invalid input at ${path}: ${node.value} is outside ±(2^53−1), so it cannot be read without rounding; send it as a string.`,
          { extensions: { code: 'INVALID_INPUT', field: path } },
        );
      }
      return value;
    }
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return node.values.map((value, index) => parseJsonLiteral(value, variables, literalPath(path, index)));
    case Kind.OBJECT: {
      const object: Record<string, unknown> = {};
      for (const field of node.fields) {
        // The same rule as for JSON bodies: a member named twice has no one meaning.
        if (Object.hasOwn(object, field.name.value)) {
          throw new GraphQLError(`Invalid input at ${literalPath(path, field.name.value)}: the member name appears more than once in its object.`, {
            extensions: { code: 'INVALID_INPUT', field: literalPath(path, field.name.value) },
          });
        }
        object[field.name.value] = parseJsonLiteral(field.value, variables, literalPath(path, field.name.value));
      }
      return object;
    }
    case Kind.VARIABLE:
      return variables?.[node.name.value];
    default:
      throw new GraphQLError('JSON literal not supported');
  }
}

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  plugins: [ErrorsPlugin],
  defaultFieldNullability: false,
  errors: {
    directResult: true,
    // Every field with errors can fail authentication, authorisation or validation.
    defaultTypes: [UnauthenticatedError, ForbiddenError, InvalidInputError],
    // A root field's result union is named after the field alone (requestApproval: RequestApprovalResult).
    defaultUnionOptions: { name: ({ parentTypeName, fieldName }) => `${ROOT_TYPES.has(parentTypeName) ? '' : parentTypeName}${capitalize(fieldName)}Result` },
  },
});

builder.scalarType('DateTime', {
  description: 'An instant, as an ISO 8601 string in UTC.',
  serialize: (value) => (value instanceof Date ? value : new Date(value as string)).toISOString(),
  parseValue: (value) => {
    const date = typeof value === 'string' ? new Date(value) : new Date(Number.NaN);
    if (Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO 8601 string');
    return date;
  },
});

builder.scalarType('JSON', {
  description: 'Any JSON value.',
  serialize: (value) => value,
  parseValue: (value) => value,
  // One declared parameter: graphql-jit warns of any scalar whose parseLiteral reads variables,
  // which it does not pass; documents with a variable inside a literal are not compiled
  // (transports/http/compiled-execution.ts), so the variables always arrive here.
  parseLiteral: (node, ...[variables]) => parseJsonLiteral(node, variables),
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
