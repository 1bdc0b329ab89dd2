/**
 * Profiles the server under one load: starts it with --cpu-prof, drives it for a few seconds and
 * prints the functions with the most self time, grouped by package.
 *
 *   node --import tsx scripts/bench/profile.ts allowed 16 [seconds] [better-sqlite|sqlite]
 *   node --import tsx scripts/bench/profile.ts trivial 16
 *   node --import tsx scripts/bench/profile.ts --top <file.cpuprofile>
 *   PROFILE_WEBHOOK=1 node --import tsx scripts/bench/profile.ts pending 16
 *
 * Loads: trivial, allowed, pending, list. With PROFILE_WEBHOOK=1 the tenant has a webhook channel for
 * approval.required, delivered to a receiver in this process (what the notification benchmark's
 * cost-to-requests figure measures). The profile stays in scripts/bench/results/profiles/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PENDING_LIST_QUERY } from './growth.js';
import { closedLoop, GraphQLClient } from './load.js';
import { startServerProcess } from './server.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per package (node_modules/<name>, or src/, or node internals). */
export function summarize(file: string, top = 30): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, index) => selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const time = selfTime.get(node.id) ?? 0;
    if (time === 0) continue;
    total += time;
    const { functionName, url, lineNumber } = node.callFrame;
    const packageMatch = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const where = packageMatch?.[1] ?? (url.includes('/src/') ? `src/${url.split('/src/')[1]?.split('/')[0]}` : url.startsWith('node:') ? 'node' : url || functionName);
    const name = `${functionName || '(anonymous)'}  ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/')}:${lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
    byPackage.set(where, (byPackage.get(where) ?? 0) + time);
  }
  const format = (entries: Map<string, number>, count: number): string =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, time]) => `${((100 * time) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  return `by package:\n${format(byPackage, 15)}\n\nby function (self time):\n${format(byFunction, top)}\n`;
}

const QUERIES = {
  trivial: { query: '{ __typename }', variables: undefined },
  allowed: {
    query: 'mutation R($input: RequestApprovalInput!) { requestApproval(input: $input) { __typename ... on RequestApprovalPayload { approval { id status } token } } }',
    variables: { action: 'payment', context: { amount: 499, currency: 'USD' }, confidence: 0.9 },
  },
  pending: {
    query: 'mutation R($input: RequestApprovalInput!) { requestApproval(input: $input) { __typename ... on RequestApprovalPayload { approval { id status } token } } }',
    variables: { action: 'payment', context: { amount: 1500, currency: 'USD' }, confidence: 0.9 },
  },
  /** The growth benchmark's pending list (first 50, with votes), read by an approver over 200 pending requests. */
  list: { query: PENDING_LIST_QUERY, variables: undefined },
};

async function main(): Promise<void> {
  if (process.argv[2] === '--top') {
    process.stdout.write(summarize(process.argv[3] as string));
    return;
  }
  const load = (process.argv[2] ?? 'allowed') as keyof typeof QUERIES;
  const concurrency = Number(process.argv[3] ?? 16);
  const seconds = Number(process.argv[4] ?? 5);
  const driver = (process.argv[5] ?? 'better-sqlite') as 'better-sqlite' | 'sqlite';
  if (!QUERIES[load]) throw new Error(`unknown load ${load}`);
  const webhook = process.env['PROFILE_WEBHOOK'] === '1';
  const file = join(import.meta.dirname, 'results', 'profiles', `${load}-c${concurrency}-${driver}${webhook ? '-webhook' : ''}.cpuprofile`);
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-profile-'));
  const server = await startServerProcess({ databasePath: join(workDir, 'db.sqlite'), driver, ...(webhook && { notify: { allowPrivate: true } }) });
  let delivered = 0;
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      delivered += 1;
      response.writeHead(200).end('ok');
    });
  });
  if (webhook) {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const admin = new GraphQLClient(server.url, 1, await server.authorization('admin', 'acme', ['admin']));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    await admin.request('mutation C($input: CreateNotificationChannelInput!) { createNotificationChannel(input: $input) { __typename } }', {
      input: { kind: 'WEBHOOK', name: 'profile receiver', url, events: ['approval.required'] },
    });
    admin.close();
  }
  const agent = new GraphQLClient(server.url, concurrency, await server.authorization('invoice-bot', 'acme', ['agent']));
  if (load === 'list') {
    const { query, variables } = QUERIES.pending;
    for (let index = 0; index < 200; index++) await agent.request(query, { input: { ...variables, resource: `invoice/${index}` } });
    agent.close();
  }
  const client = load === 'list' ? new GraphQLClient(server.url, concurrency, await server.authorization('carol', 'acme', ['approver'])) : agent;
  const { query, variables } = QUERIES[load];
  let sequence = 0;
  const operation = async (): Promise<void> =>
    void (await client.request(query, variables && { input: { ...variables, resource: `invoice/${sequence++}` } }));
  await closedLoop(concurrency, 1_000, operation);
  await server.startProfile();
  const cpuBefore = await server.cpu();
  const run = await closedLoop(concurrency, seconds * 1000, operation);
  const cpuAfter = await server.cpu();
  await server.stopProfile(file);
  client.close();
  await server.stop();
  receiver.close();
  rmSync(workDir, { recursive: true, force: true });
  const cpuPerRequest = (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / run.operations;
  process.stdout.write(
    `${load} at ${concurrency} clients on ${driver}: ${Math.round(run.operations / run.seconds)}/s, server CPU ${Math.round(cpuPerRequest)} µs/request (user ${Math.round((cpuAfter.user - cpuBefore.user) / run.operations)})` +
      `${webhook ? `, ${delivered} webhook deliveries received` : ''}\n` +
      `${file}\n\n${summarize(file)}`,
  );
}

await main();
