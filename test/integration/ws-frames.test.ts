import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { textFrame } from '../../src/transports/http/ws-delivery.js';

/**
 * Subscription results are written as frames made once (textFrame) on the socket `ws` frames on;
 * a real `ws` client must read them as the messages `ws` itself would have sent, in order with it.
 */
describe('frames written beside ws', () => {
  let server: WebSocketServer | undefined;
  afterEach(async () => {
    for (const client of server?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('reach a ws client as the texts they hold, at every length encoding, in order with ws own sends', async () => {
    // 125, 126 and 65,536 are where the length moves to 16 and then 64 bits (RFC 6455 §5.2).
    const texts = ['', 'x'.repeat(125), 'y'.repeat(126), 'é'.repeat(40_000), 'z'.repeat(65_535), 'w'.repeat(65_536), '{"ok":"✓"}'];
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (socket, request) => {
      socket.send('from ws, first');
      for (const text of texts) {
        const [head, tail] = [text.slice(0, 3), text.slice(3)];
        request.socket.write(textFrame([Buffer.from(head), Buffer.from(tail)]));
      }
      socket.send('from ws, last');
    });
    await new Promise<void>((resolve) => server!.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('close', (code) => reject(new Error(`closed ${code}`)));
      client.on('message', (data: Buffer, isBinary) => {
        expect(isBinary).toBe(false);
        received.push(data.toString('utf8'));
        if (received.length === texts.length + 2) resolve();
      });
    });
    client.terminate();
    expect(received).toEqual(['from ws, first', ...texts, 'from ws, last']);
  });
});
