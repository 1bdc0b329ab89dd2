/**
 * Benchmark 3: fan-out of one pending request to 1,000 (then 5,000 and 10,000) connected
 * graphql-ws subscribers of `pendingApprovals`, the server's memory while they are connected, and
 * the CPU the server and the load generator each spent per round.
 *
 * The subscribers speak the graphql-transport-ws protocol over plain `ws` sockets rather than
 * through the graphql-ws client, and once live their frames are read off the TCP socket directly
 * (ws-frames.ts): with thousands of them in the load generator's one event loop, on the cores the
 * server uses, the client's per-message work would be counted as delivery latency. Each message
 * is timestamped on arrival and compared with the round's first; that one is parsed once the
 * round is over.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { GraphQLClient, progress, sleep, type BenchSettings } from './load.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { percentile } from './stats.js';
import { readFramesDirectly, TEXT } from './ws-frames.js';

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
/** Rounds run, unmeasured, before the measured ones. */
const WARM_UP_ROUNDS = 2;

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
  /** The TCP socket under `socket`, read directly once the subscription is live. */
  tcp?: Socket;
}

/** What a subscriber hands the round for each message: its index, the frame's opcode, its bytes. */
type OnMessage = (index: number, opcode: number, data: Buffer, at: number) => void;

/**
 * One round's deliveries, kept without allocating per message: the load generator's own garbage
 * collections pause its reading, and at 10,000 subscribers its scavenges (7–30 ms each, with an
 * object and a decoded string kept per message) were counted as delivery time. Every subscriber
 * must receive the same bytes, so each message is compared with the round's first, and only that
 * one is decoded and checked once the round is over.
 */
class Round {
  readonly arrivals: Float64Array;
  readonly counts: Uint32Array;
  first: Buffer | null = null;
  /** The first message that was not the same bytes as the first one, described. */
  odd: string | null = null;
  private remaining: number;
  private done!: () => void;
  readonly finished = new Promise<void>((resolve) => (this.done = resolve));
  constructor(count: number) {
    this.remaining = count;
    this.arrivals = new Float64Array(count);
    this.counts = new Uint32Array(count);
  }
  received(index: number, opcode: number, data: Buffer, at: number): void {
    if (opcode !== TEXT || (this.first !== null && !data.equals(this.first))) {
      this.odd ??= `${opcode === TEXT ? '' : `a frame of opcode ${opcode}: `}${data.toString('utf8').slice(0, 300)}`;
    } else {
      this.first ??= data;
    }
    if (++this.counts[index]! === 1) {
      this.arrivals[index] = at;
      if (--this.remaining === 0) this.done();
    }
  }
}

/** graphql-ws's close code for a connection_init that came later than the server waits (3 s). */
const INIT_TIMEOUT = 4408;

/**
 * A live subscriber. On a loaded machine a connection_init can reach the server after its wait:
 * that connection is opened again, a few times, rather than failing the run.
 */
async function connect(url: string, authorization: string, index: number, onMessage: OnMessage): Promise<Subscriber> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connectOnce(url, authorization, index, onMessage);
    } catch (error) {
      if (!(error instanceof InitTimeout) || attempt === 3) throw error;
    }
  }
}

class InitTimeout extends Error {}

async function connectOnce(url: string, authorization: string, index: number, onMessage: OnMessage): Promise<Subscriber> {
  // Each delivery is decoded and checked once its round is over, so not validated as it arrives.
  const socket = new WebSocket(url, 'graphql-transport-ws', { skipUTF8Validation: true });
  const subscriber: Subscriber = { socket };
  socket.once('upgrade', (response) => (subscriber.tcp = response.socket));
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
        onMessage(index, TEXT, data, at);
      } else if (!text.includes('"type":"pong"') && !text.includes('"type":"ping"')) {
        reject(new Error(`subscriber got ${text.slice(0, 300)}`));
      }
    });
  });
  return subscriber;
}

/**
 * From the first round on, a message is only timestamped and compared, read off the TCP socket
 * without `ws` (see ws-frames.ts): with thousands of subscribers in one event loop, decoding and
 * matching each one as it arrives would be counted as delivery time (and take the CPU the server
 * shares). Every snapshot message came before the first round's event on each socket, so whatever
 * arrives now is a round's, checked when the round is over.
 */
function recordOnly(subscriber: Subscriber, index: number, onMessage: OnMessage): void {
  if (!subscriber.tcp) throw new Error("a subscriber's TCP socket was not seen at its upgrade");
  subscriber.socket.removeAllListeners('message');
  readFramesDirectly(subscriber.tcp, (frame, at) => onMessage(index, frame.opcode, frame.payload, at));
}

/** Every subscriber received the round's one event, request `id`'s ADDED, once, as the same bytes. */
function checkRound(round: Round, id: string): void {
  if (round.odd !== null) throw new Error(`subscribers of one round received different messages, among them ${round.odd}`);
  const extra = round.counts.findIndex((count) => count !== 1);
  if (extra !== -1) throw new Error(`a subscriber received ${round.counts[extra]} events for one request`);
  const text = round.first!.toString('utf8');
  const event = JSON.parse(text) as { id?: string; type?: string; payload?: { data?: { pendingApprovals: { kind: string; approval: { id: string } } } } };
  const delivered = event.payload?.data?.pendingApprovals;
  if (event.type !== 'next' || event.id !== '1' || delivered?.approval.id !== id || delivered.kind !== 'ADDED') {
    throw new Error(`the subscribers received the wrong event: ${text.slice(0, 300)}`);
  }
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
    const onMessage: OnMessage = (index, opcode, data, at) => round?.received(index, opcode, data, at);
    const wsUrl = `${server.url.replace('http', 'ws')}/graphql`;
    progress(`subscriptions: connecting ${subscriberCount} subscribers`);
    for (let start = 0; start < subscriberCount; start += CONNECT_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECT_BATCH, subscriberCount - start) }, async (_, offset) =>
          connect(wsUrl, await server!.authorization(`approver-${start + offset}`, 'acme', ['approver']), start + offset, onMessage),
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
    const runRound = async (sequence: number): Promise<{ started: number; mutationMs: number; round: Round }> => {
      const current = (round = new Round(subscribers.length));
      const ownCpuBefore = process.cpuUsage();
      const started = performance.now();
      const id = await requestPending(sequence);
      const mutationMs = performance.now() - started;
      const timeout = sleep(ROUND_TIMEOUT_MS).then(() => 'timeout' as const);
      if ((await Promise.race([current.finished.then(() => 'ok' as const), timeout])) === 'timeout') {
        const missing = current.counts.filter((count) => count === 0).length;
        throw new Error(`${missing} of ${subscribers.length} subscribers did not receive request ${id} within ${ROUND_TIMEOUT_MS} ms`);
      }
      const roundCpu = process.cpuUsage(ownCpuBefore);
      ownCpu = { user: ownCpu.user + roundCpu.user, system: ownCpu.system + roundCpu.system };
      checkRound(current, id);
      return { started, mutationMs, round: current };
    };
    await runRound(0);
    subscribers.forEach((subscriber, index) => recordOnly(subscriber, index, onMessage));
    const connected = await server.memory();
    // In trials the first round after connecting was the slowest (257 ms against a median of 173
    // at 10,000): both processes are still collecting what connecting thousands left, and the full
    // collection the memory reading forces. That is the aftermath of connecting, not the fan-out.
    for (let warm = 1; warm <= WARM_UP_ROUNDS; warm++) await runRound(-100 - warm);

    const deliveries: number[] = [];
    const lastDeliveries: number[] = [];
    const mutationTimes: number[] = [];
    if (profileDir) await server.startProfile(); // profiled when asked; the run's CPU figures then include the profiler's
    const serverCpuBefore = await server.cpu();
    ownCpu = { user: 0, system: 0 };
    for (let index = 1; index <= rounds; index++) {
      if (index % 10 === 1) progress(`subscriptions: round ${index}/${rounds}`);
      const { started, mutationMs, round: measured } = await runRound(index);
      mutationTimes.push(mutationMs);
      let last = 0;
      for (const at of measured.arrivals) {
        const latency = at - started;
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
