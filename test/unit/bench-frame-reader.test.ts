import { describe, expect, it } from 'vitest';
import { FrameReader, TEXT } from '../../scripts/bench/ws-frames.js';
import { textFrame } from '../../src/transports/http/ws-delivery.js';

/** The fan-out benchmark reads deliveries off the TCP socket itself: it must cut frames as `ws` would. */
describe("the fan-out benchmark's frame reader", () => {
  const texts = ['', 'a'.repeat(125), 'b'.repeat(126), 'ü'.repeat(300), 'c'.repeat(65_536)];
  const bytes = Buffer.concat(texts.map((text) => textFrame([Buffer.from(text)])));

  it('reads every frame of one chunk, at each length encoding', () => {
    const frames = new FrameReader().read(bytes);
    expect(frames.map((frame) => [frame.opcode, frame.payload.toString('utf8')])).toEqual(texts.map((text) => [TEXT, text]));
  });

  it('reads the same frames however the bytes are split across chunks', () => {
    for (const size of [1, 2, 3, 7, 127, 1_000]) {
      const reader = new FrameReader();
      const read: string[] = [];
      for (let offset = 0; offset < bytes.length; offset += size) {
        for (const frame of reader.read(bytes.subarray(offset, offset + size))) read.push(frame.payload.toString('utf8'));
      }
      expect(read).toEqual(texts);
    }
  });

  it('refuses a masked frame, which no server may send', () => {
    const masked = Buffer.from([0x81, 0x80 | 1, 0, 0, 0, 0, 0x61]);
    expect(() => new FrameReader().read(masked)).toThrow(/masked/);
  });
});
