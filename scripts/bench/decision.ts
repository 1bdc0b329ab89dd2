/**
 * Decision to token: from an approver's `decide` that completes a request's quorum to the waiting
 * agent receiving its decision token over `approvalUpdated`, with 100 requesters waiting at once
 * and decisions made one at a time (as an approver working through a queue makes them).
 *
 * Each requester is its own agent, connected over graphql-ws on a plain `ws` socket and
 * subscribed with `current: true`, so its first event proves the subscription is live before any
 * decision is made. Arrival is timestamped before the message is parsed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { GraphQLClient, progress, sleep, type BenchSettings } from './load.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { percentile } from './stats.js';

const REQUEST_MUTATION = `mutation Request($input: RequestApprovalInput!) {
  requestApproval(input: $input) { __typename ... on RequestApprovalPayload { approval { id status } } ... on Error { code message } }
}`;
const DECIDE_MUTATION = `mutation Decide($input: DecideInput!) {
  decide(input: $input) { __typename ... on Approval { id status } ... on Error { code message } }
}`;
const SUBSCRIPTION = 'subscription Waiting($id: ID!) { approvalUpdated(id: $id, current: true) { kind token approval { id status } } }';
const WAIT_TIMEOUT_MS = 10_000;

export interface DecisionResults {
  requesters: number;
  /** Measured rounds of `requesters` decisions, after the warm-up rounds; the percentiles are over all of them. */
  rounds: number;
  warmupRounds: number;
  /** From sending the deciding vote to the requester's receipt of its token. */
  tokenP50Ms: number;
  tokenP99Ms: number;
  /** The approver's own `decide` round trip (commit included): a floor under the figure above. */
  decideP50Ms: number;
  decideP99Ms: number;
  /** CPU per decision (user + system), of the server and of this load generator, side by side. */
  cpuPerDecisionMs: { server: number; loadGenerator: number };
}

interface Waiter {
  socket: WebSocket;
  approvalId: string;
  /** Resolves with the arrival time of the event that carries the token. */
  token: Promise<number>;
}

async function waitFor(url: string, authorization: string, approvalId: string): Promise<Waiter> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
  let tokenArrived!: (at: number) => void;
  let failed!: (error: Error) => void;
  const token = new Promise<number>((resolve, reject) => {
    tokenArrived = resolve;
    failed = reject;
  });
  token.catch(() => {});
  await new Promise<void>((live, reject) => {
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization } })));
    socket.on('message', (data: Buffer) => {
      const at = performance.now();
      const text = data.toString('utf8');
      if (text.startsWith('{"type":"connection_ack"')) {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { id: approvalId } } }));
      } else if (text.includes('"type":"next"') && text.includes('"kind":"current"')) {
        live();
      } else if (text.includes('"type":"next"') && text.includes('"token":"ey')) {
        tokenArrived(at);
      } else if (text.includes('"type":"error"') || text.includes('"errors"')) {
        const error = new Error(`requester of ${approvalId} got ${text.slice(0, 300)}`);
        failed(error);
        reject(error);
      }
    });
  });
  return { socket, approvalId, token };
}

export async function runDecisionBenchmark(settings: BenchSettings, profileDir: string | null = null): Promise<DecisionResults> {
  const requesters = settings.quick ? 20 : 100;
  const measuredRounds = settings.quick ? 1 : settings.repeats;
  // Warm-up rounds first, as every other benchmark warms up: V8 optimises the decision path over
  // hundreds of decisions, on threads whose CPU the server's figure counts. After one round of 100,
  // side by side with five: 4.7-5.8 ms of server CPU per decision against 2.9-3.0 ms, and p99
  // 19-26 ms against 8-10 ms. A server in service runs settled; the figures are of that.
  const warmupRounds = settings.quick ? 1 : 5;
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-decision-'));
  let server: ServerProcess | undefined;
  const waiters: Waiter[] = [];
  const clients: GraphQLClient[] = [];
  try {
    server = await startServerProcess({ databasePath: join(workDir, 'countersign.sqlite'), driver: 'better-sqlite' });
    const running = server;
    const wsUrl = `${server.url.replace('http', 'ws')}/graphql`;
    const approver = new GraphQLClient(server.url, 1, await server.authorization('alice', 'acme', ['approver']));
    clients.push(approver);
    const agents: { client: GraphQLClient; authorization: string }[] = [];
    for (let index = 0; index < requesters; index++) {
      const authorization = await server.authorization(`agent-${index}`, 'acme', ['agent']);
      const client = new GraphQLClient(server.url, 1, authorization);
      clients.push(client);
      agents.push({ client, authorization });
    }
    let requested = 0;
    const tokenTimes: number[] = [];
    const decideTimes: number[] = [];
    let serverCpuMicros = 0;
    let ownCpuMicros = 0;

    /** Every agent requests and waits; then the approver decides them one at a time. */
    const round = async (measured: boolean, profiled = false): Promise<void> => {
      const waiting: Waiter[] = [];
      for (const agent of agents) {
        const data = await agent.client.request<{ requestApproval: { approval?: { id: string; status: string } } }>(REQUEST_MUTATION, {
          input: { action: 'payment', resource: `invoice/INV-${requested++}`, context: { amount: 1500, currency: 'USD' }, confidence: 0.9 },
        });
        const approval = data.requestApproval.approval;
        if (approval?.status !== 'PENDING') throw new Error(`expected a pending request: ${JSON.stringify(data)}`);
        const waiter = await waitFor(wsUrl, agent.authorization, approval.id);
        waiters.push(waiter);
        waiting.push(waiter);
      }
      // Profiled when asked, the decisions only; the CPU figures then include the profiler's.
      if (profiled && profileDir) await running.startProfile();
      const serverCpuBefore = await running.cpu();
      const ownCpuBefore = process.cpuUsage();
      for (const waiter of waiting) {
        const started = performance.now();
        const decided = await approver.request<{ decide: { __typename: string; status?: string } }>(DECIDE_MUTATION, {
          input: { approvalId: waiter.approvalId, decision: 'APPROVE' },
        });
        const decidedAt = performance.now();
        if (decided.decide.status !== 'APPROVED') throw new Error(`the decision was refused: ${JSON.stringify(decided)}`);
        const timeout = sleep(WAIT_TIMEOUT_MS).then(() => Number.NaN);
        const arrived = await Promise.race([waiter.token, timeout]);
        if (Number.isNaN(arrived)) throw new Error(`the requester of ${waiter.approvalId} had no token ${WAIT_TIMEOUT_MS} ms after the decision`);
        if (measured) {
          decideTimes.push(decidedAt - started);
          tokenTimes.push(arrived - started);
        }
      }
      const ownCpu = process.cpuUsage(ownCpuBefore);
      const serverCpuAfter = await running.cpu();
      if (profiled && profileDir) await running.stopProfile(join(profileDir, 'decision-to-token.cpuprofile'));
      if (measured) {
        serverCpuMicros += serverCpuAfter.user - serverCpuBefore.user + (serverCpuAfter.system - serverCpuBefore.system);
        ownCpuMicros += ownCpu.user + ownCpu.system;
      }
      for (const waiter of waiting) waiter.socket.terminate();
    };

    progress(`decision: ${requesters} requesters waiting, ${warmupRounds} warm-up round${warmupRounds === 1 ? '' : 's'} and ${measuredRounds} measured`);
    for (let index = 0; index < warmupRounds; index++) await round(false);
    for (let index = 0; index < measuredRounds; index++) await round(true, index === measuredRounds - 1);
    const decisions = requesters * measuredRounds;
    const tokens = Float64Array.from(tokenTimes).sort();
    const decides = Float64Array.from(decideTimes).sort();
    return {
      requesters,
      rounds: measuredRounds,
      warmupRounds,
      tokenP50Ms: percentile(tokens, 0.5),
      tokenP99Ms: percentile(tokens, 0.99),
      decideP50Ms: percentile(decides, 0.5),
      decideP99Ms: percentile(decides, 0.99),
      cpuPerDecisionMs: { server: serverCpuMicros / 1000 / decisions, loadGenerator: ownCpuMicros / 1000 / decisions },
    };
  } finally {
    for (const waiter of waiters) waiter.socket.terminate();
    for (const client of clients) client.close();
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
