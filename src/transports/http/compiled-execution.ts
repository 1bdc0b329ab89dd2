import { useGraphQlJit } from '@envelop/graphql-jit';
import { getOperationAST, OperationTypeNode, visit, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

/**
 * Executions of a document on the executor before it is compiled. Compiling costs far more than
 * executing once: 2 to 7 ms for the SDK's and the inbox's documents, and up to about 125 ms for the
 * largest document the operation limits let through, against a few milliseconds to execute it.
 * Compiling every new document would let any caller block the event loop that long per request
 * by sending documents that differ in one alias; compiling only the documents that come back
 * keeps that cost to a small share of what the caller's own executions take.
 */
export const EXECUTIONS_BEFORE_COMPILING = 10;

/**
 * Queries and mutations that are sent again and again run as code compiled once per document
 * (graphql-jit) instead of walking the document for every request: a pending list of 50
 * approvals with their votes took about 1.1 ms of CPU in the executor and 0.3 ms compiled, with
 * the same JSON out. Compiled entries are keyed by the parsed document, which yoga's parser
 * cache bounds.
 *
 * Two kinds of document always keep the executor. Subscriptions: their events run through the
 * shared execution (transports/graphql/shared-execution.ts). And documents with a variable inside
 * an object or list literal (`context: { amount: $amount }`): graphql-jit hands a scalar's
 * parseLiteral no variables, so the JSON scalar would read such a member as absent, and the
 * policy would judge, and the token bind, a context other than the one sent.
 */
export function useCompiledExecution(): Plugin {
  const compiles = compilePolicy();
  return useGraphQlJit(
    {},
    {
      enableIf: ({ document, operationName }) => compiles(document, operationName),
      // A document that passed validation but does not compile is answered with graphql-jit's
      // errors for it, not logged: a caller must not be able to fill the log. None of the
      // documents of this project's clients is such a one (the suites run them all compiled).
      onError: () => {},
    },
  ) as Plugin;
}

/** Whether an execution of `document` runs compiled; counts the executions of each document. */
export function compilePolicy(): (document: DocumentNode, operationName?: string | null) => boolean {
  const executions = new WeakMap<DocumentNode, number>();
  return (document, operationName) => {
    // Asked each time: one document may hold a query and a subscription.
    if (getOperationAST(document, operationName)?.operation === OperationTypeNode.SUBSCRIPTION) return false;
    const seen = executions.get(document);
    if (seen === -1) return false;
    if (seen === undefined && variableInLiteral(document)) {
      executions.set(document, -1);
      return false;
    }
    const count = (seen ?? 0) + 1;
    executions.set(document, count);
    return count > EXECUTIONS_BEFORE_COMPILING;
  };
}

function variableInLiteral(document: DocumentNode): boolean {
  let depth = 0;
  let found = false;
  const nested = { enter: () => void depth++, leave: () => void depth-- };
  visit(document, {
    ObjectValue: nested,
    ListValue: nested,
    Variable: () => {
      if (depth > 0) found = true;
    },
  });
  return found;
}
