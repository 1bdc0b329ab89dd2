/**
 * Benchmark: notifications.
 *
 * 1. Latency: a request goes pending on a server with one webhook channel; the time until the
 *    webhook receiver (in this process, verifying each delivery with `standardwebhooks`) answers
 *    200, measured from the moment the requestApproval answer reached the client (and, beside it,
 *    from the moment the request was sent). Requests are made one at a time, so each delivery is
 *    timed alone.
 * 2. Cost to requests: allowed and pending requestApproval at 16 clients on that server and on an
 *    identical server without channels, side by side, run by run; the figure is the throughput
 *    ratio (target: within 10 % of no channel).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { closedLoop, GraphQLClient, progress, warmUpPaths, type BenchSettings } from './load.js';
import { requestInput } from './request.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { figuresOf, median, medianFigures, percentile, type RepeatedFigures, type RunFigures } from './stats.js';

const CLIENTS = 16;

const REQUEST_MUTATION = `mutation Request($input: RequestApprovalInput!) {
  requestApproval(input: $input) { __typename ... on RequestApprovalPayload { approval { id status } } ... on Error { code message } }
}`;

const CREATE_CHANNEL = `mutation Create($input: CreateNotificationChannelInput!) {
  createNotificationChannel(input: $input) { __typename ... on CreateNotificationChannelPayload { signingSecret channel { id } } ... on Error { code message } }
}`;

export interface NotificationResults {
  /** Pending requests timed one at a time. */
  deliveries: number;
  /** From the requestApproval answer (PENDING) to the receiver's 200. */
  pendingToDelivered: { p50Ms: number; p99Ms: number; maxMs: number };
  /** From sending requestApproval to the receiver's 200 (includes the request itself). */
  sentToDelivered: { p50Ms: number; p99Ms: number };
  /** Every delivery verified with standardwebhooks. */
  allVerified: boolean;
  /** 16 clients, with one webhook channel and without any: median figures of the repeats. */
  load: Record<'allowed' | 'pending', { withChannel: RepeatedFigures; withoutChannel: RepeatedFigures; ratio: number }>;
}

interface Receiver {
  url: string;
  secret: string | null;
  verified: number;
  failed: number;
  /** Called with the approval id of each delivery, as the 200 is written. */
  onDelivery: ((approvalId: string, at: number) => void) | null;
  close(): Promise<void>;
}

/** A webhook receiver that verifies each delivery (while `secret` is set) and answers 200. */
async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', secret: null, verified: 0, failed: 0, onDelivery: null, close: async () => {} };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let approvalId = '';
      try {
        const body = (receiver.secret ? new Webhook(receiver.secret).verify(raw, request.headers as Record<string, string>) : JSON.parse(raw)) as {
          data: { approval: { id: string } };
        };
        approvalId = body.data.approval.id;
        if (receiver.secret) receiver.verified += 1;
      } catch {
        receiver.failed += 1;
      }
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
      receiver.onDelivery?.(approvalId, performance.now());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/countersign`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

async function measuredOn(server: ServerProcess, settings: BenchSettings, operation: () => Promise<void>): Promise<RunFigures> {
  await closedLoop(CLIENTS, settings.warmupMs, operation);
  const before = await server.cpu();
  const ownBefore = process.cpuUsage();
  const sample = await closedLoop(CLIENTS, settings.runMs, operation);
  const own = process.cpuUsage(ownBefore);
  const after = await server.cpu();
  return {
    ...figuresOf(sample),
    serverCpuUsPerOp: (after.user - before.user + after.system - before.system) / sample.operations,
    loadGeneratorCpuUsPerOp: (own.user + own.system) / sample.operations,
  };
}

export async function runNotificationBenchmark(settings: BenchSettings): Promise<NotificationResults> {
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-notify-'));
  const servers: ServerProcess[] = [];
  const receiver = await startReceiver();
  try {
    const notify = { allowPrivate: true };
    const withChannel = await startServerProcess({ databasePath: join(workDir, 'with-channel.sqlite'), driver: 'better-sqlite', notify });
    servers.push(withChannel);
    const withoutChannel = await startServerProcess({ databasePath: join(workDir, 'without-channel.sqlite'), driver: 'better-sqlite', notify });
    servers.push(withoutChannel);

    const admin = new GraphQLClient(withChannel.url, 1, await withChannel.authorization('admin', 'acme', ['admin']));
    const created = await admin.request<{ createNotificationChannel: { __typename: string; signingSecret: string | null } }>(CREATE_CHANNEL, {
      input: { kind: 'WEBHOOK', name: 'bench receiver', url: receiver.url, events: ['approval.required'] },
    });
    admin.close();
    if (created.createNotificationChannel.__typename !== 'CreateNotificationChannelPayload') {
      throw new Error(`could not create the channel: ${JSON.stringify(created)}`);
    }
    receiver.secret = created.createNotificationChannel.signingSecret;

    // 1. Latency, one request at a time.
    const agentAuthorization = await withChannel.authorization('invoice-bot', 'acme', ['agent']);
    const agent = new GraphQLClient(withChannel.url, 1, agentAuthorization);
    const count = settings.quick ? 20 : 200;
    const fromAnswer: number[] = [];
    const fromSend: number[] = [];
    let sequence = 0;
    try {
      progress(`notifications: ${count} pending requests, one at a time`);
      for (let index = 0; index < count; index++) {
        let expected = '';
        const arrivals = new Map<string, number>();
        let wakeUp: (() => void) | null = null;
        receiver.onDelivery = (approvalId, at) => {
          arrivals.set(approvalId, at);
          if (approvalId === expected) wakeUp?.();
        };
        const sent = performance.now();
        const data = await agent.request<{ requestApproval: { approval?: { id: string; status: string } } }>(REQUEST_MUTATION, {
          input: requestInput('pending', sequence++),
        });
        const answered = performance.now();
        const approval = data.requestApproval.approval;
        if (approval?.status !== 'PENDING') throw new Error(`expected a pending request: ${JSON.stringify(data)}`);
        expected = approval.id;
        if (!arrivals.has(expected)) {
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no delivery of ${expected} within 10 s`)), 10_000);
            wakeUp = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        const delivered = arrivals.get(expected) as number;
        // The delivery can reach the receiver before the answer reaches the client: that counts as 0.
        fromAnswer.push(Math.max(0, delivered - answered));
        fromSend.push(delivered - sent);
      }
    } finally {
      receiver.onDelivery = null;
      agent.close();
    }
    const sortedAnswer = Float64Array.from(fromAnswer).sort();
    const sortedSend = Float64Array.from(fromSend).sort();

    // 2. What a configured channel costs requests, side by side with a server without one.
    const load = {} as NotificationResults['load'];
    const clients = {
      with: new GraphQLClient(withChannel.url, CLIENTS, agentAuthorization),
      without: new GraphQLClient(withoutChannel.url, CLIENTS, agentAuthorization),
    };
    const requestOf = (kind: 'allowed' | 'pending') => (client: GraphQLClient) => async (): Promise<void> => {
      const data = await client.request<{ requestApproval: { approval?: { status: string } } }>(REQUEST_MUTATION, { input: requestInput(kind, sequence++) });
      if (data.requestApproval.approval?.status !== (kind === 'allowed' ? 'APPROVED' : 'PENDING')) {
        throw new Error(`unexpected requestApproval result: ${JSON.stringify(data)}`);
      }
    };
    try {
      // Both servers' paths first run unmeasured until V8 has optimised them (see jitWarmupMs): the
      // server with the channel has served the requests above, the other none, and a ratio of a
      // settled server over a compiling one is not the channel's cost.
      progress('notifications: warming up both servers');
      const paths = (['allowed', 'pending'] as const).flatMap((kind) => [requestOf(kind)(clients.with), requestOf(kind)(clients.without)]);
      await warmUpPaths(settings, CLIENTS, paths);
      for (const kind of ['allowed', 'pending'] as const) {
        const runsWith: RunFigures[] = [];
        const runsWithout: RunFigures[] = [];
        const ratios: number[] = [];
        const operation = requestOf(kind);
        for (let repeat = 0; repeat < settings.repeats; repeat++) {
          progress(`notifications: ${kind} requests at ${CLIENTS} clients, repeat ${repeat + 1}/${settings.repeats}`);
          // Alternating which goes first, so that drift of the machine falls on both alike.
          const first = repeat % 2 === 0;
          const a = first ? await measuredOn(withChannel, settings, operation(clients.with)) : null;
          const b = await measuredOn(withoutChannel, settings, operation(clients.without));
          const c = a ?? (await measuredOn(withChannel, settings, operation(clients.with)));
          runsWith.push(c);
          runsWithout.push(b);
          ratios.push(c.perSecond / b.perSecond);
        }
        load[kind] = { withChannel: medianFigures(runsWith), withoutChannel: medianFigures(runsWithout), ratio: median(ratios) };
      }
    } finally {
      clients.with.close();
      clients.without.close();
    }

    return {
      deliveries: count,
      pendingToDelivered: { p50Ms: percentile(sortedAnswer, 0.5), p99Ms: percentile(sortedAnswer, 0.99), maxMs: sortedAnswer[sortedAnswer.length - 1] ?? Number.NaN },
      sentToDelivered: { p50Ms: percentile(sortedSend, 0.5), p99Ms: percentile(sortedSend, 0.99) },
      allVerified: receiver.failed === 0 && receiver.verified >= count,
      load,
    };
  } finally {
    for (const server of servers) await server.stop();
    await receiver.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
