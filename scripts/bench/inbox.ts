/**
 * The inbox's latency: from an agent's request going pending to its row being in the page of a
 * signed-in approver (Debian's Chromium driven by playwright-core, the server in its own process).
 * The page records, with a MutationObserver, the wall-clock instant each row appears; the request
 * is timed from just before requestApproval is sent. p50/p99 over 20 requests, one at a time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { HttpClient, progress, type BenchSettings } from './load.js';
import { startServerProcess } from './server.js';
import { percentile } from './stats.js';

export interface InboxResults {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const REQUEST = `mutation($input: RequestApprovalInput!) { requestApproval(input: $input) { __typename } }`;

export async function runInboxBenchmark(settings: BenchSettings, requests = Number(process.env['BENCH_INBOX_REQUESTS']) || 20): Promise<InboxResults> {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-bench-inbox-'));
  const server = await startServerProcess({ databasePath: join(dir, 'bench.sqlite'), driver: 'better-sqlite' });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const tenant = 'bench-inbox';
    const approverToken = (await server.authorization('approver-1', tenant, ['approver'])).replace(/^Bearer /, '');
    const agent = await server.authorization('agent-1', tenant, ['agent']);
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.getByRole('textbox', { name: 'Caller token' }).fill(approverToken);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: /Pending requests/ }).waitFor();
    await page.evaluate(() => {
      const seen: Record<string, number> = {};
      (window as unknown as { seen: Record<string, number> }).seen = seen;
      new MutationObserver(() => {
        for (const heading of document.querySelectorAll('article h3')) {
          const text = heading.textContent ?? '';
          const match = /bench\/\d+/.exec(text);
          if (match && seen[match[0]] === undefined) seen[match[0]] = Date.now();
        }
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const http = new HttpClient(server.url, 1);
    const latencies: number[] = [];
    for (let index = 0; index < requests; index += 1) {
      const resource = `bench/${index}`;
      const body = JSON.stringify({ query: REQUEST, variables: { input: { action: 'payment', resource, context: { amount: 1500 + index } } } });
      const sent = Date.now();
      await http.post('/graphql', body, { authorization: agent });
      const appeared = await page.waitForFunction((key) => (window as unknown as { seen: Record<string, number> }).seen[key], resource, { timeout: 10_000 });
      latencies.push(((await appeared.jsonValue()) as number) - sent);
    }
    http.close();
    latencies.sort((a, b) => a - b);
    const results = { requests, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), maxMs: latencies.at(-1) ?? Number.NaN };
    progress(`inbox: pending → visible p50 ${results.p50Ms} ms, p99 ${results.p99Ms} ms over ${requests} requests${settings.quick ? ' (quick)' : ''}`);
    return results;
  } finally {
    await browser.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
