import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
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
}

/** The most of a response body kept in the delivery record. */
const MAX_SUMMARY_BYTES = 512;

/**
 * POSTs a JSON body and resolves with the answer, whatever its status. Redirects are never
 * followed (a 3xx is just an answer), the destination's addresses are checked as the connection
 * is made, and the whole exchange is bounded by `timeoutMs`.
 */
export function postJson(url: string, body: string, options: PostOptions): Promise<PostAnswer> {
  const target = new URL(url);
  const host = bareHost(target.hostname);
  if (!options.allowPrivate && isIP(host) && isNonPublicAddress(host)) {
    return Promise.reject(new DestinationRefusedError(`${host} is not a public address`));
  }
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
      // A fresh connection per attempt: a pooled socket would skip the address check of a re-resolved name.
      agent: false,
    });
    const timer = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on('response', (response: IncomingMessage) => {
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
