import type { ExecutionResult } from 'graphql';
import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { endingWithSource } from '../graphql/event-streams.js';
import type { DirectLane } from '../graphql/shared-execution.js';

/** graphql-ws close code for a connection whose caller may no longer be served (RFC 6455 private range). */
export const CLOSE_FORBIDDEN = CloseCode.Forbidden;

/**
 * A result's JSON, made once however many subscribers are sent the same result object: the
 * shared execution (transports/graphql/shared-execution.ts) hands every subscriber of one
 * (document, variables, visibility) the same object, so serialising it per subscriber would repeat
 * identical work a thousand times. The same JSON graphql-ws writes (`GraphQLError#toJSON` for errors).
 */
const payloads = new WeakMap<object, string>();
function payloadJson(result: ExecutionResult): string {
  let json = payloads.get(result);
  if (json === undefined) payloads.set(result, (json = JSON.stringify(result)));
  return json;
}

/**
 * Whether `data` may be queued on `socket`; a client that stops reading would otherwise have
 * everything queued for it in memory, so past `maxBufferedBytes` its connection is cut.
 */
export function writable(socket: WebSocket, data: string, maxBufferedBytes: number): boolean {
  if (socket.readyState !== socket.OPEN) return false;
  if (socket.bufferedAmount + data.length > maxBufferedBytes) {
    socket.terminate();
    return false;
  }
  return true;
}

/**
 * Writes the results of subscription `id` as graphql-transport-ws `next` messages: the envelope is
 * a prefix made once per subscription, the payload the shared JSON, one `send` per result.
 *
 * `refusal` says why the connection may no longer be served (its caller token expired or was
 * revoked), checked at each delivery: the connection's own timer can fire late, and an event must
 * never go out after expiry. The connection is then closed (4403), as at expiry.
 */
export function nextMessageWriter(
  socket: WebSocket,
  id: string,
  maxBufferedBytes: number,
  refusal: () => string | null,
): (result: ExecutionResult) => void {
  const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
  return (result) => {
    const refused = refusal();
    if (refused !== null) return socket.close(CLOSE_FORBIDDEN, refused);
    const data = prefix + payloadJson(result) + '}';
    // No write callback: the byte bound above holds a slow client back, not a promise per message.
    if (writable(socket, data, maxBufferedBytes)) socket.send(data);
  };
}

/**
 * What graphql-ws iterates for a subscription whose results `deliver` writes itself: it yields
 * nothing and ends when `source` ends (graphql-ws then sends `complete`), or fails as `source`
 * fails (graphql-ws sends `error`); graphql-ws's `return()` (the client's `complete`, a closed
 * socket) reaches `source` at once. graphql-ws would otherwise copy, stringify and send each
 * result with a promise of its own per subscriber. With the subscription's direct `lane`, results
 * reach `deliver` as they are made, and `source` yields only those the lane hands back to it.
 */
export function deliveredDirectly(
  source: AsyncIterable<ExecutionResult>,
  deliver: (result: ExecutionResult) => void,
  lane?: DirectLane,
): AsyncIterableIterator<never> {
  const inner = source[Symbol.asyncIterator]();
  let pumped: Promise<IteratorResult<never>> | undefined;
  const pump = async (): Promise<IteratorResult<never>> => {
    for (;;) {
      const result = await inner.next();
      if (result.done) return { done: true, value: undefined };
      deliver(result.value);
    }
  };
  // Started by graphql-ws's first pull, once it has registered the subscription.
  return endingWithSource(inner, () => {
    if (pumped === undefined) {
      lane?.start(deliver);
      pumped = pump();
    }
    return pumped;
  });
}
