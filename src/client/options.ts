import type { Approval } from './types.js';

/** Options of {@link CountersignClient}. */
export interface CountersignClientOptions {
  /** The server's base URL (`http://127.0.0.1:4000`) or its GraphQL endpoint (`…/graphql`). */
  url: string;
  /** The caller's bearer JWT, or a function returning it (asked again for every request and connection). */
  token: string | (() => string | Promise<string>);
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
  /**
   * A WebSocket constructor for subscriptions; defaults to the global `WebSocket` (browsers), and
   * to the `ws` package's in the Node entry (`countersign/client`).
   */
  webSocketImpl?: unknown;
  /** How long one HTTP request may take, in milliseconds (default 30 000). */
  requestTimeoutMs?: number;
  /**
   * Send each operation as the SHA-256 of its document (a persisted operation) instead of its
   * text: what a server with `COUNTERSIGN_PERSISTED_ONLY=true` requires. The server must be of the
   * same version as this SDK, whose documents form its manifest.
   */
  persistedOperations?: boolean;
}

/** Options of {@link CountersignClient.requireApproval}. */
export interface RequireApprovalOptions {
  /** Give up after this many milliseconds (the request stays pending on the server). */
  timeoutMs?: number;
  /** Give up when this signal aborts (the request stays pending on the server). */
  signal?: AbortSignal;
  /** Called once when the request needs a human decision, e.g. to tell the user who must approve. */
  onPending?: (approval: Approval) => void;
}

/** Options of the subscription streams. */
export interface StreamOptions {
  /** Start with the current state: the approval itself, or every request now pending. */
  current?: boolean;
  /** Ends the stream when aborted. */
  signal?: AbortSignal;
}
