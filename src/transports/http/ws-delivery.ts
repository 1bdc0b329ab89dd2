import type { Writable } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import { CloseCode } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { endingWithSource } from '../graphql/event-streams.js';
import type { DirectLane } from '../graphql/shared-execution.js';

/** graphql-ws close code for a connection whose caller may no longer be served (RFC 6455 private range). */
export const CLOSE_FORBIDDEN = CloseCode.Forbidden;

/**
 * A result's JSON as UTF-8, made once however many subscribers are sent the same result object:
 * the shared execution (transports/graphql/shared-execution.ts) hands every subscriber of one
 * (document, variables, visibility) the same object, so serialising and encoding it per subscriber
 * would repeat identical work a thousand times. The same JSON graphql-ws writes
 * (`GraphQLError#toJSON` for errors).
 */
const payloads = new WeakMap<object, Buffer>();
function payloadBytes(result: ExecutionResult): Buffer {
  let bytes = payloads.get(result);
  if (bytes === undefined) payloads.set(result, (bytes = Buffer.from(JSON.stringify(result))));
  return bytes;
}

const SUFFIX = Buffer.from('}');

/**
 * One unmasked, final text frame (RFC 6455 §5.2) holding `parts` one after the other: the bytes
 * `ws` writes for `send(parts.join(''))`, made here in one buffer so that a delivery is one
 * socket write. `ws` writes a frame's header and its payload as two (a writev per subscriber),
 * after encoding the string again for every socket; at 10,000 subscribers that was a large part
 * of a fan-out's CPU. Server frames are never masked (§5.1).
 */
export function textFrame(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const headerLength = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x81; // FIN, opcode 1 (text)
  if (length < 126) frame[1] = length;
  else if (length < 65_536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  let offset = headerLength;
  for (const part of parts) offset += part.copy(frame, offset);
  return frame;
}

/**
 * Whether `bytes` more may be queued on `socket`; a client that stops reading would otherwise have
 * everything queued for it in memory, so past `maxBufferedBytes` its connection is cut.
 */
export function writable(socket: WebSocket, bytes: number, maxBufferedBytes: number): boolean {
  if (socket.readyState !== socket.OPEN) return false;
  if (socket.bufferedAmount + bytes > maxBufferedBytes) {
    socket.terminate();
    return false;
  }
  return true;
}

/**
 * Writes the results of subscription `id` as graphql-transport-ws `next` messages: the envelope is
 * a prefix made once per subscription, the payload the shared bytes, one frame and one write of
 * the connection's own socket (`raw`, the one `ws` frames on) per result. `ws` has no queue of
 * its own ahead of that socket (no compression is negotiated), so its frames and these keep their
 * order, and its `bufferedAmount` counts these too.
 *
 * `refusal` says why the connection may no longer be served (its caller token expired or was
 * revoked), checked at each delivery: the connection's own timer can fire late, and an event must
 * never go out after expiry. The connection is then closed (4403), as at expiry.
 */
export function nextMessageWriter(
  socket: WebSocket,
  raw: Writable,
  id: string,
  maxBufferedBytes: number,
  refusal: () => string | null,
): (result: ExecutionResult) => void {
  const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
  return (result) => {
    const refused = refusal();
    if (refused !== null) return socket.close(CLOSE_FORBIDDEN, refused);
    const frame = textFrame([prefix, payloadBytes(result), SUFFIX]);
    // No write callback: the byte bound above holds a slow client back, not a promise per message.
    if (writable(socket, frame.length, maxBufferedBytes)) raw.write(frame);
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
