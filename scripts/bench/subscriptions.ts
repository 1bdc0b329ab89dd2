/**
 * Benchmark 3: fan-out of one pending request to 1,000 (then 5,000 and 10,000) connected
 * graphql-ws subscribers of `pendingApprovals`, the server's memory while they are connected, and
 * the CPU the server and the load generator each spent per round.
 *
 * The subscribers speak the graphql-transport-ws protocol over plain `ws` sockets rather than
 * through the graphql-ws client: with a thousand of them in the load generator's one event loop,
 * the client library's per-message work would be counted as delivery latency. Each message is
 * timestamped on arrival and parsed only once the round is over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { GraphQLClient, progress, sleep, type BenchSettings } from './load.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { percentile } from './stats.js';

/**
 * With current: true the server reads the pending requests only once the subscription listens, so
 * the first CURRENT event proves the subscriber is live: no round starts before every one is.
 */
const SUBSCRIPTION = 'subscription { pendingApprovals(current: true) { kind approval { id status riskLevel requester requiredApprovals } } }';
const REQUEST_MUTATION = `mutation Request($input: RequestApprovalInput!) {
  requestApproval(input: $input) { __typename ... on RequestApprovalPayload { approval { id status } } ... on Error { code message } }
}`;
/** Sockets opened at once while connecting, so the server is not flooded with handshakes. */
const CONNECT_BATCH = 100;
const ROUND_TIMEOUT_MS = 10_000;

export interface SubscriptionResults {
  subscribers: number;
  rounds: number;
  /** From sending the mutation to each subscriber's receipt, over every delivery of every round. */
  deliveryP50Ms: number;
  deliveryP99Ms: number;
  /** From sending the mutation until the last of the subscribers had it, median of the rounds. */
  lastDeliveryMedianMs: number;
  /** The mutation's own round trip (commit included), median: a floor under the delivery time. */
  mutationMedianMs: number;
  /**
   * CPU time per round (user + system), of the server and of this load generator, side by side,
   * and the kernel's share of each (system time): a delivery is one socket write in the server and
   * one read in the load generator, whose cost is the host's, not the code's.
   */
  cpuPerRoundMs: { server: number; loadGenerator: number; serverSystem: number; loadGeneratorSystem: number };
  /**
   * Cores the server and the load generator share. Every delivery must be written by the one and
   * read by the other: their CPU per round over these cores is the shortest a round can take here.
   */
  cores: number;
  memory: {
    beforeRssBytes: number;
    beforeHeapUsedBytes: number;
    connectedRssBytes: number;
    connectedHeapUsedBytes: number;
    rssPerSubscriberBytes: number;
    heapPerSubscriberBytes: number;
  };
}

interface Subscriber {
  socket: WebSocket;
  /** Arrival time and raw bytes of each message of the current round (checked once the round is over). */
  received: { at: number; data: Buffer }[];
}

class Round {
  private remaining: number;
  private done!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.done = resolve));
  constructor(count: number) {
    this.remaining = count;
  }
  delivered(): void {
    if (--this.remaining === 0) this.done();
  }
}

/** graphql-ws's close code for a connection_init that came later than the server waits (3 s). */
const INIT_TIMEOUT = 4408;

/**
 * A live subscriber. On a loaded machine a connection_init can reach the server after its wait:
 * that connection is opened again, a few times, rather than failing the run.
 */
async function connect(url: string, authorization: string, onNext: (subscriber: Subscriber) => void): Promise<Subscriber> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(url, authorization, onNext);
    } catch (error) {
      if (!(error instanceof InitTimeout) || attempt === 3) throw error;
    }
  }
}

class InitTimeout extends Error {}

async function connectOnce(url: string, authorization: string, onNext: (subscriber: Subscriber) => void): Promise<Subscriber> {
  // Each delivery is decoded and checked once its round is over, so not validated as it arrives.
  const socket = new WebSocket(url, 'graphql-transport-ws', { skipUTF8Validation: true });
  const subscriber: Subscriber = { socket, received: [] };
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    // A socket the server closes before the subscription is live would otherwise hang the run.
    socket.once('close', (code, reason) => {
      const message = `a subscriber's socket closed before its subscription was live: ${code} ${String(reason)}`;
      reject(code === INIT_TIMEOUT ? new InitTimeout(message) : new Error(message));
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
    socket.on('message', (data: Buffer) => {
      const at = performance.now();
      const text = data.toString('utf8');
      if (text.startsWith('{"type":"connection_ack"')) {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION } }));
      } else if (text.includes('"type":"next"') && text.includes('"kind":"CURRENT"')) {
        // The snapshot (the warm-up requests, still pending): live from now on; not a round's delivery.
        resolve();
      } else if (text.includes('"type":"next"')) {
        subscriber.received.push({ at, data });
        onNext(subscriber);
      } else if (!text.includes('"type":"pong"') && !text.includes('"type":"ping"')) {
        reject(new Error(`subscriber got ${text.slice(0, 300)}`));
      }
    });
  });
  return subscriber;
}

/**
 * From the first round on, a message is only timestamped and kept: with thousands of subscribers in
 * one event loop, decoding and matching each one as it arrives would be counted as delivery time
 * (and take the CPU the server shares). Every snapshot message came before the first round's
 * event on each socket, so whatever arrives now is a round's, checked when the round is over.
 */
function recordOnly(subscriber: Subscriber, onNext: (subscriber: Subscriber) => void): void {
  subscriber.socket.removeAllListeners('message');
  subscriber.socket.on('message', (data: Buffer) => {
    subscriber.received.push({ at: performance.now(), data });
    onNext(subscriber);
  });
}

/** Subscriber populations measured: the first is the headline figure, the others show how it scales. */
export function subscriberPopulations(settings: BenchSettings, env: NodeJS.ProcessEnv = process.env): number[] {
  const listed = (env['BENCH_SUBSCRIBERS'] ?? '').split(',').map(Number).filter((count) => Number.isInteger(count) && count > 0);
  if (listed.length > 0) return listed;
  return settings.quick ? [100] : [1_000, 5_000, 10_000];
}

export async function runSubscriptionBenchmark(
  settings: BenchSettings,
  profileDir: string | null = null,
  subscriberCount = settings.quick ? 100 : 1_000,
): Promise<SubscriptionResults> {
  // Larger populations take longer per round; fewer rounds still give thousands of deliveries.
  const rounds = settings.quick ? 5 : subscriberCount > 2_000 ? 10 : 30;
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-subscriptions-'));
  let server: ServerProcess | undefined;
  const subscribers: Subscriber[] = [];
  let client: GraphQLClient | undefined;
  try {
    server = await startServerProcess({ databasePath: join(workDir, 'countersign.sqlite'), driver: 'better-sqlite' });
    const agentAuthorization = await server.authorization('invoice-bot', 'acme', ['agent']);
    client = new GraphQLClient(server.url, 1, agentAuthorization);
    const requestPending = async (sequence: number): Promise<string> => {
      const data = await client!.request<{ requestApproval: { approval?: { id: string; status: string } } }>(REQUEST_MUTATION, {
        input: { action: 'payment', resource: `invoice/INV-${sequence}`, context: { amount: 1500, currency: 'USD' }, confidence: 0.9 },
      });
      const approval = data.requestApproval.approval;
      if (approval?.status !== 'PENDING') throw new Error(`expected a pending request: ${JSON.stringify(data)}`);
      return approval.id;
    };
    // Warm the server's request path so the baseline memory is that of a running server.
    for (let warm = 0; warm < 20; warm++) await requestPending(-1 - warm);
    const before = await server.memory();

    let round: Round | undefined;
    const onNext = (): void => round?.delivered();
    const wsUrl = `${server.url.replace('http', 'ws')}/graphql`;
    progress(`subscriptions: connecting ${subscriberCount} subscribers`);
    for (let start = 0; start < subscriberCount; start += CONNECT_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECT_BATCH, subscriberCount - start) }, async (_, offset) =>
          connect(wsUrl, await server!.authorization(`approver-${start + offset}`, 'acme', ['approver']), onNext),
        ),
      );
      subscribers.push(...batch);
    }
    // Connecting thousands takes longer than the server keeps an idle HTTP connection (5 s): a
    // request sent on it as the server closes it would fail, so the rounds use a fresh one.
    client.close();
    client = new GraphQLClient(server.url, 1, agentAuthorization);

    // A subscription is live once it has delivered: a first round proves all of them are.
    // The load generator's CPU while deliveries arrive (checking them afterwards is not counted).
    let ownCpu: NodeJS.CpuUsage = { user: 0, system: 0 };
    const runRound = async (sequence: number): Promise<{ started: number; mutationMs: number; id: string }> => {
      for (const subscriber of subscribers) subscriber.received.length = 0;
      round = new Round(subscribers.length);
      const ownCpuBefore = process.cpuUsage();
      const started = performance.now();
      const id = await requestPending(sequence);
      const mutationMs = performance.now() - started;
      const timeout = sleep(ROUND_TIMEOUT_MS).then(() => 'timeout' as const);
      if ((await Promise.race([round.finished.then(() => 'ok' as const), timeout])) === 'timeout') {
        const missing = subscribers.filter((subscriber) => subscriber.received.length === 0).length;
        throw new Error(`${missing} of ${subscribers.length} subscribers did not receive request ${id} within ${ROUND_TIMEOUT_MS} ms`);
      }
      const roundCpu = process.cpuUsage(ownCpuBefore);
      ownCpu = { user: ownCpu.user + roundCpu.user, system: ownCpu.system + roundCpu.system };
      return { started, mutationMs, id };
    };
    await runRound(0);
    for (const subscriber of subscribers) recordOnly(subscriber, onNext);
    const connected = await server.memory();

    const deliveries: number[] = [];
    const lastDeliveries: number[] = [];
    const mutationTimes: number[] = [];
    if (profileDir) await server.startProfile(); // profiled when asked; the run's CPU figures then include the profiler's
    const serverCpuBefore = await server.cpu();
    ownCpu = { user: 0, system: 0 };
    for (let index = 1; index <= rounds; index++) {
      if (index % 10 === 1) progress(`subscriptions: round ${index}/${rounds}`);
      const { started, mutationMs, id } = await runRound(index);
      mutationTimes.push(mutationMs);
      let last = 0;
      for (const subscriber of subscribers) {
        const [message, ...extra] = subscriber.received;
        if (!message || extra.length > 0) throw new Error(`a subscriber received ${subscriber.received.length} events for one request`);
        const text = message.data.toString('utf8');
        const event = JSON.parse(text) as { id?: string; type?: string; payload?: { data?: { pendingApprovals: { kind: string; approval: { id: string } } } } };
        const delivered = event.payload?.data?.pendingApprovals;
        if (event.type !== 'next' || event.id !== '1' || delivered?.approval.id !== id || delivered.kind !== 'ADDED') {
          throw new Error(`a subscriber received the wrong event: ${text.slice(0, 300)}`);
        }
        const latency = message.at - started;
        deliveries.push(latency);
        last = Math.max(last, latency);
      }
      lastDeliveries.push(last);
      // Let the server settle between rounds, as between independent requests.
      await sleep(20);
    }

    const serverCpuAfter = await server.cpu();
    const serverCpuMicros = serverCpuAfter.user - serverCpuBefore.user + (serverCpuAfter.system - serverCpuBefore.system);
    if (profileDir) await server.stopProfile(join(profileDir, `subscriptions-fan-out-${subscriberCount}.cpuprofile`));
    const sortedDeliveries = Float64Array.from(deliveries).sort();
    const sortedLast = Float64Array.from(lastDeliveries).sort();
    const sortedMutations = Float64Array.from(mutationTimes).sort();
    return {
      subscribers: subscribers.length,
      rounds,
      deliveryP50Ms: percentile(sortedDeliveries, 0.5),
      deliveryP99Ms: percentile(sortedDeliveries, 0.99),
      lastDeliveryMedianMs: percentile(sortedLast, 0.5),
      mutationMedianMs: percentile(sortedMutations, 0.5),
      cpuPerRoundMs: {
        server: serverCpuMicros / 1000 / rounds,
        loadGenerator: (ownCpu.user + ownCpu.system) / 1000 / rounds,
        serverSystem: (serverCpuAfter.system - serverCpuBefore.system) / 1000 / rounds,
        loadGeneratorSystem: ownCpu.system / 1000 / rounds,
      },
      cores: availableParallelism(),
      memory: {
        beforeRssBytes: before.rss,
        beforeHeapUsedBytes: before.heapUsed,
        connectedRssBytes: connected.rss,
        connectedHeapUsedBytes: connected.heapUsed,
        rssPerSubscriberBytes: (connected.rss - before.rss) / subscribers.length,
        heapPerSubscriberBytes: (connected.heapUsed - before.heapUsed) / subscribers.length,
      },
    };
  } finally {
    for (const subscriber of subscribers) subscriber.socket.terminate();
    client?.close();
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
