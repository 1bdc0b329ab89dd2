import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { bareHost, DestinationRefusedError, guardedLookup, isNonPublicAddress } from './destination.js';

/** What the destination answered. */
export interface PostAnswer {
  statusCode: number;
  /** The reason phrase and the start of the body, for the delivery record. */
  summary: string;
}

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  headers?: Record<string, string>;
  /** Connections kept alive between posts (one channel's); without them, a connection per post. */
  connections?: ChannelConnections | undefined;
}

/** The most of a response body kept in the delivery record. */
const MAX_SUMMARY_BYTES = 512;

/**
 * How long a kept-alive connection may sit idle before it is closed: under the 5 s after which a
 * Node.js server closes an idle connection (the shortest common default), so that a post seldom
 * meets a connection the receiver is closing.
 */
const IDLE_MS = 4_000;

/** Errors of a kept-alive connection that the receiver closed before the request reached it. */
const STALE_CONNECTION = new Set(['ECONNRESET', 'EPIPE']);

/**
 * One channel's connections, kept alive between its posts so that a delivery does not pay a TCP
 * (and TLS) handshake: at most `maxSockets` per destination, idle ones closed after a few
 * seconds. Every new connection resolves its host through the destination check, so the address
 * of each connection is checked as it is made; a kept-alive one stays on the address it was
 * checked for.
 */
export class ChannelConnections {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(maxSockets: number, allowPrivate: boolean) {
    const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: IDLE_MS, lookup: guardedLookup(allowPrivate) as never };
    this.http = new HttpAgent(options);
    this.https = new HttpsAgent(options);
  }

  agentFor(protocol: string): HttpAgent {
    return protocol === 'https:' ? this.https : this.http;
  }

  /** Closes every connection, idle or in use. */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

/**
 * POSTs a JSON body and resolves with the answer, whatever its status. Redirects are never
 * followed (a 3xx is just an answer), the destination's addresses are checked as the connection
 * is made, and the whole exchange is bounded by `timeoutMs`. A post that finds its kept-alive
 * connection closed by the receiver, before any answer, is sent once more on a new connection.
 */
export function postJson(url: string, body: string, options: PostOptions): Promise<PostAnswer> {
  const target = new URL(url);
  const host = bareHost(target.hostname);
  if (!options.allowPrivate && isIP(host) && isNonPublicAddress(host)) {
    return Promise.reject(new DestinationRefusedError(`${host} is not a public address`));
  }
  const deadline = Date.now() + options.timeoutMs;
  const agent = options.connections?.agentFor(target.protocol);
  return postOnce(target, body, options, deadline, agent).catch((error: unknown) => {
    if (!(error instanceof StaleConnectionError)) throw error;
    return postOnce(target, body, options, deadline, undefined);
  });
}

/** A kept-alive connection failed before the answer: nothing reached the receiver's handler, or it can deduplicate. */
class StaleConnectionError extends Error {}

function postOnce(target: URL, body: string, options: PostOptions, deadline: number, agent: HttpAgent | undefined): Promise<PostAnswer> {
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostAnswer>((resolve, reject) => {
    const request = send(target, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Countersign-Notifications/1',
        ...options.headers,
      },
      lookup: guardedLookup(options.allowPrivate) as never,
      // Without a channel's connections, a fresh connection: its address is checked as it is made.
      agent: agent ?? false,
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
    let answered = false;
    request.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const stale = request.reusedSocket && !answered && STALE_CONNECTION.has(error.code ?? '');
      reject(stale ? new StaleConnectionError(error.message) : error);
    });
    request.on('response', (response: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_SUMMARY_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      response.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_SUMMARY_BYTES).trim();
        const status = response.statusCode ?? 0;
        const location = status >= 300 && status < 400 && response.headers.location ? ` (redirect to ${response.headers.location} not followed)` : '';
        resolve({ statusCode: status, summary: `${status} ${response.statusMessage ?? ''}`.trim() + location + (text ? `: ${text}` : '') });
      });
    });
    request.end(body);
  });
}
