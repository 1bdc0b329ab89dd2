import { GraphQLError, Kind, type ASTVisitor, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface OperationLimits {
  /** Longest accepted document, in characters. */
  maxDocumentLength: number;
  /** Deepest field nesting (fragments followed). */
  maxDepth: number;
  /** Most field selections in one operation (fragments counted where spread). */
  maxFields: number;
}

export const DEFAULT_LIMITS: OperationLimits = { maxDocumentLength: 20_000, maxDepth: 12, maxFields: 500 };

const limitError = (message: string) => new GraphQLError(message, { extensions: { code: 'LIMIT_EXCEEDED' } });

/** Measures each operation's depth and breadth, following fragments, and reports those over the limits. */
function operationLimitsRule(limits: OperationLimits): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      let fields = 0;
      const visiting = new Set<string>();
      const walk = (selections: readonly import('graphql').SelectionNode[], depth: number): number => {
        let deepest = depth;
        for (const selection of selections) {
          if (selection.kind === Kind.FIELD) {
            fields += 1;
            deepest = Math.max(deepest, selection.selectionSet ? walk(selection.selectionSet.selections, depth + 1) : depth + 1);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            deepest = Math.max(deepest, walk(selection.selectionSet.selections, depth));
          } else {
            const name = selection.name.value;
            const fragment = context.getFragment(name);
            if (fragment && !visiting.has(name)) {
              visiting.add(name);
              deepest = Math.max(deepest, walk(fragment.selectionSet.selections, depth));
              visiting.delete(name);
            }
          }
          if (fields > limits.maxFields) return deepest;
        }
        return deepest;
      };
      const depth = walk(operation.selectionSet.selections, 0);
      if (depth > limits.maxDepth) context.reportError(limitError(`operation depth ${depth} exceeds the limit of ${limits.maxDepth}`));
      if (fields > limits.maxFields) context.reportError(limitError(`operation selects more than ${limits.maxFields} fields, which exceeds the limit`));
    },
  });
}

/**
 * Bounds what one operation may ask for. As an envelop plugin it runs wherever yoga's envelop
 * runs: HTTP, SSE and the graphql-ws server alike.
 */
export function useOperationLimits(limits: OperationLimits = DEFAULT_LIMITS): Plugin {
  const rule = operationLimitsRule(limits);
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (source.length > limits.maxDocumentLength) {
        throw limitError(`the document is longer than ${limits.maxDocumentLength} characters`);
      }
    },
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
