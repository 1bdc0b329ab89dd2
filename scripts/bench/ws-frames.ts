/**
 * The load generator's reader of a subscriber's frames, straight off its TCP socket.
 *
 * The fan-out benchmark's load generator shares the server's two cores: whatever it spends reading
 * 10,000 deliveries is taken from the server and counted as delivery time. `ws`'s reader (a
 * writable stream per socket, a message event per frame) cost about as much per message as the
 * server's write did, so once a subscription is live its socket is read here instead: frames are
 * cut out of the bytes as they arrive and kept with their arrival time, checked after the round.
 */
import type { Socket } from 'node:net';

export interface Frame {
  /** RFC 6455 opcode (TEXT for text), or UNREADABLE. */
  opcode: number;
  payload: Buffer;
}

const EMPTY: Buffer = Buffer.alloc(0);
/** The opcode of what stands for bytes that were not a frame a server may send (its payload says why). */
const UNREADABLE = -1;
export const TEXT = 1;

/** Unmasked, unfragmented frames from a server (RFC 6455 §5.2), cut out of the bytes read. */
export class FrameReader {
  private buffered: Buffer = EMPTY;

  /** The frames that `chunk` completes, in order; a partial frame waits for the next chunk. */
  read(chunk: Buffer): Frame[] {
    const bytes = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Frame[] = [];
    let offset = 0;
    for (;;) {
      const available = bytes.length - offset;
      if (available < 2) break;
      const first = bytes[offset]!;
      const second = bytes[offset + 1]!;
      if ((first & 0x80) === 0 || (second & 0x80) !== 0) throw new Error('the server sent a fragmented or masked frame');
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        if (available < 4) break;
        length = bytes.readUInt16BE(offset + 2);
        header = 4;
      } else if (length === 127) {
        if (available < 10) break;
        length = Number(bytes.readBigUInt64BE(offset + 2));
        header = 10;
      }
      if (available < header + length) break;
      frames.push({ opcode: first & 0x0f, payload: bytes.subarray(offset + header, offset + header + length) });
      offset += header + length;
    }
    this.buffered = offset === bytes.length ? EMPTY : bytes.subarray(offset);
    return frames;
  }
}

/**
 * From now on, `socket` (a `ws` client's, whose reader has consumed everything so far) is read
 * here: `ws`'s own listener is taken off, and each frame goes to `onFrame` with the time its last
 * byte arrived. `ws` still closes and terminates the socket.
 */
export function readFramesDirectly(socket: Socket, onFrame: (frame: Frame, at: number) => void): void {
  const reader = new FrameReader();
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    const at = performance.now();
    let frames: Frame[];
    try {
      frames = reader.read(chunk);
    } catch (error) {
      // Reported as what the subscriber received, so the round's check names it.
      frames = [{ opcode: UNREADABLE, payload: Buffer.from(error instanceof Error ? error.message : String(error)) }];
      socket.removeAllListeners('data');
    }
    for (const frame of frames) onFrame(frame, at);
  });
}
