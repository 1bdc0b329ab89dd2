/**
 * Real peers of the notification tests: an HTTP receiver that verifies Standard Webhooks
 * signatures with the `standardwebhooks` package, and an SMTP server (`smtp-server`) in the test
 * process. Both listen on port 0 and hand over what arrived as it arrives.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { Webhook } from 'standardwebhooks';

/** A queue read with deadlines: `next()` resolves with the next item, waiting for it. */
export class Arrivals<T> {
  readonly all: T[] = [];
  private read = 0;
  private waiting: (() => void)[] = [];

  push(item: T): void {
    this.all.push(item);
    for (const wake of this.waiting.splice(0)) wake();
  }

  /** The next item not yet read; fails after `timeoutMs`. */
  async next(timeoutMs = 10_000, what = 'delivery'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (this.read >= this.all.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms (got ${this.all.length})`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.all[this.read++] as T;
  }

  /** Resolves when nothing more arrives for `quietMs`; fails with what did. */
  async expectNothing(quietMs = 300): Promise<void> {
    const before = this.all.length;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    if (this.all.length !== before) throw new Error(`unexpected arrival: ${JSON.stringify(this.all.slice(before))}`);
  }
}

/** One request the receiver got, verified or not. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  raw: string;
  /** The verified body, or null when verification failed. */
  body: any;
  verified: boolean;
  verifyError: string | null;
  /** The status the receiver answered with. */
  answered: number;
  receivedAt: number;
}

export interface WebhookReceiverOptions {
  /** The secret to verify with; unset until the channel exists (then `receiver.secret = ...`). */
  secret?: string;
  /** Answer this many first requests with 503. */
  failFirst?: number;
  /** Answer every request this way instead (status and extra headers). */
  respond?: (index: number) => { status: number; headers?: Record<string, string> };
  /** Listen on this port (to bring back an endpoint at the address it had). */
  port?: number;
  /** Hold each answer this long, as a slow receiver does (the request is recorded as it arrives). */
  holdMs?: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  secret: string | undefined;
  arrivals: Arrivals<ReceivedWebhook>;
  /** Connections the sender opened so far. */
  connectionsOpened: number;
  /** When each connection closed, as it closes. */
  connectionsClosed: Arrivals<number>;
  close(): Promise<void>;
}

/** An HTTP receiver verifying every request with `standardwebhooks`; unverifiable requests get 401. */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const arrivals = new Arrivals<ReceivedWebhook>();
  let index = 0;
  const receiver = { secret: options.secret } as WebhookReceiver;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      let verifyError: string | null = null;
      try {
        if (!receiver.secret) throw new Error('no secret to verify with');
        body = new Webhook(receiver.secret).verify(raw, request.headers as Record<string, string>);
      } catch (error) {
        verifyError = (error as Error).message;
      }
      const position = index++;
      const answer = options.respond?.(position) ?? { status: verifyError ? 401 : position < (options.failFirst ?? 0) ? 503 : 200 };
      arrivals.push({ headers: request.headers, raw, body, verified: verifyError === null, verifyError, answered: answer.status, receivedAt: Date.now() });
      const answerNow = () => {
        response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        response.end(answer.status < 300 ? 'ok' : 'not now');
      };
      if (options.holdMs) setTimeout(answerNow, options.holdMs);
      else answerNow();
    });
  });
  const connectionsClosed = new Arrivals<number>();
  server.on('connection', (socket) => {
    receiver.connectionsOpened += 1;
    socket.on('close', () => connectionsClosed.push(Date.now()));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/hooks/countersign`,
    port,
    arrivals,
    connectionsOpened: 0,
    connectionsClosed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** A plain HTTP receiver with no verification (Slack incoming webhooks are not signed). */
export async function startJsonReceiver(): Promise<{ url: string; arrivals: Arrivals<{ headers: IncomingHttpHeaders; body: any }>; close(): Promise<void> }> {
  const arrivals = new Arrivals<{ headers: IncomingHttpHeaders; body: any }>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      arrivals.push({ headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXX`,
    arrivals,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A message the SMTP server accepted. */
export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
  /** The Subject header, unfolded. */
  subject: string;
  /** The raw message with quoted-printable soft breaks and escapes undone, to search for text. */
  decoded: string;
}

/** A real SMTP server (no TLS, no auth) collecting what it accepts. */
export async function startSmtpServer(): Promise<{ url: string; arrivals: Arrivals<ReceivedMail>; close(): Promise<void> }> {
  const arrivals = new Arrivals<ReceivedMail>();
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const headerBlock = raw.split(/\r?\n\r?\n/)[0] ?? '';
        const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/im.exec(headerBlock)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ?? '';
        const decoded = raw
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        arrivals.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((address) => address.address),
          raw,
          subject,
          decoded,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, arrivals, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
