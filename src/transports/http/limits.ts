import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** What one GraphQL operation may ask for; the same bounds hold over HTTP, SSE and graphql-ws. */
export interface OperationLimits {
  /** Longest document, in characters, refused before anything reads it. */
  maxDocumentLength: number;
  /** Deepest bracket nesting of the document text, refused before graphql-js parses it. */
  maxDocumentNesting: number;
  /** Most lexical tokens (graphql-armor max-tokens stops the parser there). */
  maxTokens: number;
  /** Deepest field nesting, fragments followed (graphql-armor max-depth). */
  maxDepth: number;
  /** Most aliases in one operation (graphql-armor max-aliases). */
  maxAliases: number;
  /** Most directives in one operation (graphql-armor max-directives). */
  maxDirectives: number;
  /** Highest cost (graphql-armor cost-limit: objects 2, scalars 1, growing with depth). */
  maxCost: number;
}

export const DEFAULT_LIMITS: OperationLimits = {
  maxDocumentLength: 20_000,
  maxDocumentNesting: 48,
  maxTokens: 2_000,
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 30,
  maxCost: 5_000,
};

/**
 * Root fields whose resolver does work proportional to the tenant's history, not to the
 * selection: each may appear at most this often in an operation, however aliased or spread.
 */
const EXPENSIVE_ROOT_FIELDS: ReadonlyMap<string, number> = new Map([['verifyAuditChain', 1]]);

const limitError = (message: string) => new GraphQLError(message, { extensions: { code: 'LIMIT_EXCEEDED' } });

/**
 * The deepest nesting of `{`, `[` and `(` in a GraphQL document, found in one pass without
 * recursion; strings, block strings and comments are skipped. graphql-js parses recursively, so
 * this must run first: a 2,000-deep list literal would otherwise overflow its stack.
 */
export function documentNesting(source: string): number {
  let depth = 0;
  let deepest = 0;
  for (let index = 0; index < source.length; index++) {
    const char = source[index];
    if (char === '#') {
      const end = source.indexOf('\n', index);
      index = end < 0 ? source.length : end;
    } else if (char === '"') {
      if (source.startsWith('"""', index)) {
        let end = index + 3;
        for (;;) {
          end = source.indexOf('"""', end);
          if (end < 0 || source[end - 1] !== '\\') break;
          end += 3;
        }
        index = end < 0 ? source.length : end + 2;
      } else {
        let end = index + 1;
        while (end < source.length && source[end] !== '"' && source[end] !== '\n') end += source[end] === '\\' ? 2 : 1;
        index = end;
      }
    } else if (char === '{' || char === '[' || char === '(') {
      depth += 1;
      if (depth > deepest) deepest = depth;
    } else if (char === '}' || char === ']' || char === ')') {
      depth -= 1;
    }
  }
  return deepest;
}

/** Counts the expensive root fields of each operation, through fragments and inline fragments. */
function expensiveFieldsRule(): ValidationRule {
  return (context: ValidationContext) => ({
    OperationDefinition(operation) {
      const counts = new Map<string, number>();
      const spread = new Set<string>();
      const pending = [...operation.selectionSet.selections];
      for (let selection = pending.pop(); selection !== undefined; selection = pending.pop()) {
        if (selection.kind === Kind.FIELD) {
          const max = EXPENSIVE_ROOT_FIELDS.get(selection.name.value);
          if (max === undefined) continue;
          const count = (counts.get(selection.name.value) ?? 0) + 1;
          counts.set(selection.name.value, count);
          if (count === max + 1) context.reportError(limitError(`${selection.name.value} may be selected at most ${max} time(s) per operation`));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          pending.push(...selection.selectionSet.selections);
        } else {
          // A fragment spread twice at the root selects its fields twice.
          const fragment = context.getFragment(selection.name.value);
          if (fragment && spread.size < 1000) {
            spread.add(selection.name.value);
            pending.push(...fragment.selectionSet.selections);
          }
        }
      }
    },
  });
}

export interface GuardOptions {
  limits?: OperationLimits;
  /** Answer `__schema` and `__type` (off in production unless enabled). */
  introspection: boolean;
  /** "Did you mean ...?" in validation errors (off in production unless enabled). */
  fieldSuggestions: boolean;
}

/**
 * The operation guards as envelop plugins: they run wherever yoga's envelop runs, which is HTTP,
 * SSE and the graphql-ws server alike (it runs each operation through `yoga.getEnveloped`).
 * graphql-armor does the counting; its rejections are reported as LIMIT_EXCEEDED.
 */
export function useOperationGuards(options: GuardOptions): Plugin[] {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const reject = [
    (context: ValidationContext | null, error: GraphQLError) => {
      const refusal = limitError(error.message.replace(/^Syntax Error: /, ''));
      // max-tokens rejects while lexing, without a validation context: stop the parser there.
      if (context === null) throw refusal;
      context.reportError(refusal);
    },
  ];
  const common = { propagateOnRejection: false, onReject: reject };
  const armor = new EnvelopArmor({
    maxTokens: { ...common, n: limits.maxTokens },
    maxDepth: { ...common, n: limits.maxDepth, flattenFragments: true },
    maxAliases: { ...common, n: limits.maxAliases },
    maxDirectives: { ...common, n: limits.maxDirectives },
    costLimit: { ...common, maxCost: limits.maxCost },
    blockFieldSuggestion: { enabled: !options.fieldSuggestions },
  });
  const textBounds: Plugin = {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (source.length > limits.maxDocumentLength) throw limitError(`the document is longer than ${limits.maxDocumentLength} characters`);
      const nesting = documentNesting(source);
      if (nesting > limits.maxDocumentNesting) throw limitError(`the document nests ${nesting} levels deep, over the limit of ${limits.maxDocumentNesting}`);
    },
    onValidate({ addValidationRule }) {
      addValidationRule(expensiveFieldsRule());
      // Yoga's disable-introspection plugin keys on the HTTP request, which graphql-ws operations
      // never pass through; the validation rule itself covers every transport.
      if (!options.introspection) addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
  return [textBounds, ...(armor.protect().plugins as Plugin[])];
}
