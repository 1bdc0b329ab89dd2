import { createClient, type Client as WsClient, type Sink } from 'graphql-ws/client';
import { CountersignClientError, TransportError, fromGraphQLErrors } from './errors.js';
import type { TypedDocumentString } from './generated/graphql.js';
import { PERSISTED_OPERATIONS } from './generated/persisted-operations.js';

/** Where and how the SDK reaches one Countersign server. */
export interface TransportOptions {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  graphqlUrl: string;
  /** The WebSocket endpoint of subscriptions. */
  wsUrl: string;
  /** The caller's bearer JWT, asked again for every request and connection. */
  token: () => Promise<string>;
  fetch: typeof fetch;
  webSocketImpl: unknown;
  /** How long one HTTP request may take, in milliseconds. */
  requestTimeoutMs: number;
  /** Send each SDK document as its hash in the persisted-operations manifest instead of its text. */
  persistedOperations: boolean;
}

/** The hash of each SDK document in the manifest, looked up by the document's text. */
const PERSISTED_HASHES: ReadonlyMap<string, string> = new Map(Object.entries(PERSISTED_OPERATIONS).map(([hash, text]) => [text, hash]));

/** A document as a request names it: by its text, or by its hash alone when operations are persisted. */
function operationOf(document: { toString(): string }, persisted: boolean): { query: string; extensions?: Record<string, unknown> } {
  const text = document.toString();
  const hash = persisted ? PERSISTED_HASHES.get(text) : undefined;
  return hash === undefined ? { query: text } : { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
}

/**
 * GraphQL over HTTP (typed documents, bearer token, timeout) and graphql-ws subscriptions on the
 * same endpoint, with every failure turned into an SDK error. Browser-safe: the WebSocket
 * constructor is given, never imported.
 */
export class GraphQLTransport {
  private wsClient: WsClient | null = null;

  constructor(private readonly options: TransportOptions) {}

  async request<T, V>(document: TypedDocumentString<T, V>, variables: V, signal?: AbortSignal): Promise<T> {
    const { graphqlUrl, requestTimeoutMs } = this.options;
    const timeout = AbortSignal.timeout(requestTimeoutMs);
    let response: Response;
    try {
      response = await this.options.fetch(graphqlUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: `Bearer ${await this.options.token()}`,
          // What yoga's CSRF prevention asks of requests a browser could send cross-site.
          'x-graphql-yoga-csrf': 'countersign',
        },
        // A persisted operation's HTTP body carries no `query` member at all.
        body: JSON.stringify(this.options.persistedOperations ? { ...operationOf(document, true), query: undefined, variables } : { query: document.toString(), variables }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted ? `no answer within ${requestTimeoutMs} ms` : describe(error);
      throw new TransportError(`Could not reach Countersign at ${graphqlUrl}: ${reason}`, { cause: error });
    }
    let body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      throw new TransportError(`Countersign answered HTTP ${response.status} without a GraphQL result.`, {
        status: response.status,
        cause: error,
      });
    }
    if (body.errors?.length) throw fromGraphQLErrors(body.errors, response.status);
    if (!body.data) throw new TransportError(`Countersign answered HTTP ${response.status} without data.`, { status: response.status });
    return body.data;
  }

  /** Starts one subscription; returns the function that ends it. Errors reach `sink.error` as SDK errors. */
  subscribe<T, V>(document: TypedDocumentString<T, V>, variables: V, sink: Sink<T>): () => void {
    let ended = false;
    const unsubscribe = this.ws().subscribe<T>(
      { ...operationOf(document, this.options.persistedOperations), variables: variables as Record<string, unknown> },
      {
        next: (result) => {
          if (ended) return;
          if (result.errors?.length) {
            ended = true;
            sink.error(fromGraphQLErrors(result.errors));
          } else if (result.data) {
            sink.next(result.data as T);
          }
        },
        error: (error) => {
          if (ended) return;
          ended = true;
          sink.error(subscriptionError(error, this.options.wsUrl));
        },
        complete: () => {
          if (ended) return;
          ended = true;
          sink.complete();
        },
      },
    );
    return () => {
      ended = true;
      unsubscribe();
    };
  }

  /** A subscription as an async iterator whose `return()` unsubscribes at once. */
  stream<R, V, F extends keyof R>(document: TypedDocumentString<R, V>, variables: V, field: F, signal?: AbortSignal): AsyncIterableIterator<R[F]> {
    type T = R[F];
    const buffered: T[] = [];
    const waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }[] = [];
    let failure: unknown = null;
    let done = false;
    let unsubscribe = () => {};
    const end = (error: unknown = null) => {
      if (done) return;
      done = true;
      failure = error;
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      for (const reader of waiting.splice(0)) {
        if (error !== null) reader.reject(error);
        else reader.resolve({ done: true, value: undefined });
      }
    };
    const onAbort = () => end();
    unsubscribe = this.subscribe(document, variables, {
      next: (data) => {
        const value = data[field];
        const reader = waiting.shift();
        if (reader) reader.resolve({ done: false, value });
        else buffered.push(value);
      },
      error: (error) => end(error),
      complete: () => end(),
    });
    if (signal?.aborted) end();
    else signal?.addEventListener('abort', onAbort, { once: true });

    const iterator: AsyncIterableIterator<T> = {
      next() {
        const value = buffered.shift();
        if (value !== undefined) return Promise.resolve({ done: false, value });
        if (done) {
          if (failure === null) return Promise.resolve({ done: true, value: undefined });
          const error = failure;
          failure = null;
          return Promise.reject(error);
        }
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      },
      return() {
        end();
        buffered.length = 0;
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /** Closes the subscription connection; in-flight streams end. */
  async close(): Promise<void> {
    const client = this.wsClient;
    this.wsClient = null;
    await client?.dispose();
  }

  private ws(): WsClient {
    this.wsClient ??= createClient({
      url: this.options.wsUrl,
      webSocketImpl: this.options.webSocketImpl,
      connectionParams: async () => ({ authorization: `Bearer ${await this.options.token()}` }),
      lazy: true,
      retryAttempts: 5,
    });
    return this.wsClient;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** What graphql-ws reports (GraphQL errors, a close event, a socket error) as one SDK error. */
function subscriptionError(error: unknown, url: string): CountersignClientError {
  if (error instanceof CountersignClientError) return error;
  if (Array.isArray(error)) return fromGraphQLErrors(error as { message: string; extensions?: Record<string, unknown> }[]);
  if (typeof error === 'object' && error !== null && 'code' in error && typeof (error as { code: unknown }).code === 'number') {
    const { code, reason } = error as { code: number; reason?: unknown };
    return new TransportError(`The subscription connection to ${url} closed (${code}${reason ? `: ${String(reason)}` : ''}).`, {
      cause: error,
    });
  }
  const message = typeof error === 'object' && error !== null && 'message' in error ? String((error as { message: unknown }).message) : describe(error);
  return new TransportError(`Could not subscribe at ${url}: ${message}`, { cause: error });
}
