import { GraphQLError } from 'graphql';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import type { Plugin } from 'graphql-yoga';
import { PERSISTED_OPERATIONS } from '../../client/generated/persisted-operations.js';

/** The persisted operations a server knows: the SDK's documents (and so the CLI's and the inbox's). */
export const KNOWN_OPERATIONS: Readonly<Record<string, string>> = PERSISTED_OPERATIONS;

const refusal = (message: string, code: string) => new GraphQLError(message, { extensions: { code, http: { status: 400 } } });

const ONLY_PERSISTED = 'This server runs persisted operations only (COUNTERSIGN_PERSISTED_ONLY): send the SHA-256 of an SDK document as extensions.persistedQuery.sha256Hash.';

const notFound = (hash: string) => `No persisted operation has the hash ${JSON.stringify(hash.slice(0, 80))}.`;

/**
 * Persisted operations over HTTP and SSE (yoga's plugin): a request may name an SDK document by
 * its hash instead of sending it; with `only`, a request that sends any other document is refused.
 */
export function usePersistedOperationsOnly(only: boolean): Plugin {
  return usePersistedOperations({
    getPersistedOperation: (hash) => KNOWN_OPERATIONS[hash] ?? null,
    allowArbitraryOperations: !only,
    customErrors: {
      persistedQueryOnly: () => refusal(ONLY_PERSISTED, 'PERSISTED_QUERY_ONLY'),
      notFound: (payload) => refusal(notFound(hashOf(payload.params.extensions) ?? ''), 'PERSISTED_QUERY_NOT_FOUND'),
      keyNotFound: () => refusal(ONLY_PERSISTED, 'PERSISTED_QUERY_ONLY'),
    },
  }) as Plugin;
}

function hashOf(extensions: unknown): string | null {
  const persisted = (extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

/**
 * The same rule for a graphql-ws subscribe message, which does not pass yoga's request
 * pipeline: the document a message may run, or the error that refuses it.
 */
export function persistedDocument(payload: { query: string; extensions?: Record<string, unknown> | null }, only: boolean): string | GraphQLError {
  const hash = hashOf(payload.extensions ?? undefined);
  if (hash !== null) return KNOWN_OPERATIONS[hash] ?? refusal(notFound(hash), 'PERSISTED_QUERY_NOT_FOUND');
  if (only) return refusal(ONLY_PERSISTED, 'PERSISTED_QUERY_ONLY');
  return payload.query;
}
