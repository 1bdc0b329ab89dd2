import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { PENDING_PAYMENT, uniqueTenant } from '../support/clients.js';
import { useTestServer } from '../support/server.js';

const REQUEST = /* GraphQL */ `
  mutation ($input: RequestApprovalInput!) {
    requestApproval(input: $input) {
      __typename
      ... on RequestApprovalPayload { approval { id } }
      ... on RateLimitedError { code operation retryAfterSeconds }
    }
  }
`;

const EXECUTE = /* GraphQL */ `
  mutation ($input: ExecuteInput!) {
    execute(input: $input) {
      __typename
      ... on Error { code }
      ... on RateLimitedError { retryAfterSeconds }
    }
  }
`;

const tally = (typenames: string[]): Record<string, number> =>
  typenames.reduce<Record<string, number>>((counts, name) => ({ ...counts, [name]: (counts[name] ?? 0) + 1 }), {});

/**
 * Buckets smaller than the defaults (20 per second, burst 100): on a loaded machine 500 requests
 * take seconds to arrive, and the bound must hold however long they take.
 */
const LIMIT = { perSecond: 2, burst: 50 };
const FAILED_AUTH_LIMIT = { perSecond: 1, burst: 10 };

describe('per-caller rate limits, on by default', () => {
  const defaults = loadConfig({ COUNTERSIGN_AUTH_SECRET: 'x'.repeat(32) }).rateLimits;
  const server = useTestServer({
    rateLimits: { ...defaults, requestApproval: LIMIT, execute: LIMIT, failedAuthentication: FAILED_AUTH_LIMIT },
  });
  beforeAll(() => {
    expect(defaults.enabled).toBe(true);
  });

  it('refuses 500 requestApproval calls from one caller in a burst past its bucket, and not another caller', async () => {
    const tenant = uniqueTenant('flood');
    const flooder = await server.token('bot', tenant, ['agent']);
    const bystander = await server.token('other-bot', tenant, ['agent']);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 500 }, () => server.gql(flooder, REQUEST, { input: PENDING_PAYMENT }).then((body) => body.data?.requestApproval)),
    );
    const elapsedSeconds = (Date.now() - started) / 1000;
    const counts = tally(results.map((result) => result?.__typename));
    // The burst on top of the steady rate over the time the flood took.
    expect(counts['RequestApprovalPayload']).toBeGreaterThanOrEqual(LIMIT.burst);
    expect(counts['RequestApprovalPayload']).toBeLessThanOrEqual(LIMIT.burst + LIMIT.perSecond * Math.ceil(elapsedSeconds + 1));
    expect(counts['RateLimitedError']).toBe(500 - counts['RequestApprovalPayload']!);
    const refused = results.find((result) => result?.__typename === 'RateLimitedError');
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', operation: 'requestApproval' });
    expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);

    const other = await server.gql(bystander, REQUEST, { input: PENDING_PAYMENT });
    expect(other.data?.requestApproval.__typename).toBe('RequestApprovalPayload');
  });

  it('limits execute per caller the same way', async () => {
    const tenant = uniqueTenant('exec-flood');
    const flooder = await server.token('bot', tenant, ['agent']);
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 300 }, () =>
        server.gql(flooder, EXECUTE, { input: { token: 'not.a.token', action: 'payment', context: {} } }).then((body) => body.data?.execute),
      ),
    );
    const counts = tally(results.map((result) => result?.__typename));
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(counts['TokenInvalidError']).toBeGreaterThanOrEqual(LIMIT.burst);
    expect(counts['TokenInvalidError']).toBeLessThanOrEqual(LIMIT.burst + LIMIT.perSecond * Math.ceil(elapsedSeconds + 1));
    expect(counts['RateLimitedError']).toBe(300 - counts['TokenInvalidError']!);
  });

  it('answers failed authentication from one address with 429 past its bucket, and still lets known callers in', async () => {
    const tenant = uniqueTenant('auth-flood');
    const known = await server.token('alice', tenant, ['agent']);
    expect((await server.gql(known, REQUEST, { input: PENDING_PAYMENT })).data?.requestApproval.__typename).toBe('RequestApprovalPayload');
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    const started = Date.now();
    for (let attempt = 0; attempt < 40; attempt++) {
      const response = await fetch(server.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer forged.${attempt}.token` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after');
        expect(((await response.json()) as any).errors[0].extensions.code).toBe('RATE_LIMITED');
      } else await response.body?.cancel();
    }
    const elapsedSeconds = (Date.now() - started) / 1000;
    // Answered (UNAUTHENTICATED, 200) up to the burst plus what the steady rate earned meanwhile.
    const answered = statuses.filter((status) => status === 200).length;
    expect(statuses.slice(0, FAILED_AUTH_LIMIT.burst).every((status) => status === 200)).toBe(true);
    expect(answered).toBeLessThanOrEqual(FAILED_AUTH_LIMIT.burst + FAILED_AUTH_LIMIT.perSecond * Math.ceil(elapsedSeconds + 1));
    expect(statuses.filter((status) => status === 429).length).toBe(40 - answered);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // A token this server already verified is not a guess.
    expect((await server.gql(known, REQUEST, { input: PENDING_PAYMENT })).data?.requestApproval.__typename).toBe('RequestApprovalPayload');
  });
});

describe('the failed-authentication limit beside /graphql', () => {
  const defaults = loadConfig({ COUNTERSIGN_AUTH_SECRET: 'x'.repeat(32) }).rateLimits;
  const server = useTestServer({ rateLimits: { ...defaults, failedAuthentication: FAILED_AUTH_LIMIT } });

  const forged = (attempt: number) => ({ authorization: `Bearer forged.${attempt}.token` });

  it('counts guesses at /audit/checkpoint, /mcp and graphql-ws in the bucket /graphql uses, and still lets known callers in', async () => {
    const auditor = await server.token('audrey', uniqueTenant('checkpoint-flood'), ['auditor']);
    expect((await fetch(`${server.url}/audit/checkpoint`, { headers: { authorization: `Bearer ${auditor}` } })).status).toBe(200);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let attempt = 0; attempt < 30; attempt++) {
      const response = await fetch(`${server.url}/audit/checkpoint`, { headers: forged(attempt) });
      statuses.push(response.status);
      const body = (await response.json()) as { code: string };
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after');
        expect(body.code).toBe('RATE_LIMITED');
      } else expect(body.code).toBe('UNAUTHENTICATED');
    }
    expect(statuses.slice(0, FAILED_AUTH_LIMIT.burst).every((status) => status === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

    // The same address is refused at /graphql and /mcp too, before its next token is verified.
    const graphql = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...forged(100) },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(graphql.status).toBe(429);
    await graphql.body?.cancel();
    const mcp = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...forged(101) },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(mcp.status).toBe(429);
    await mcp.body?.cancel();
    // graphql-ws: the connection_init of a new guess is answered by closing the socket with 4429.
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise<void>((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: forged(102) }));
    expect((await closed).code).toBe(4429);

    // A token this server already verified is not a guess.
    expect((await fetch(`${server.url}/audit/checkpoint`, { headers: { authorization: `Bearer ${auditor}` } })).status).toBe(200);
  });
});

describe('COUNTERSIGN_RATE_LIMIT=off', () => {
  const server = useTestServer({ rateLimits: loadConfig({ COUNTERSIGN_RATE_LIMIT: 'off', COUNTERSIGN_AUTH_SECRET: 'x'.repeat(32) }).rateLimits });

  it('accepts all 500 requests of one caller, as the benchmarks need', async () => {
    const agent = await server.token('bot', uniqueTenant('unlimited'), ['agent']);
    const results = await Promise.all(
      Array.from({ length: 500 }, () => server.gql(agent, REQUEST, { input: PENDING_PAYMENT }).then((body) => body.data?.requestApproval.__typename)),
    );
    expect(tally(results)).toEqual({ RequestApprovalPayload: 500 });
  }, 60_000);

  it('is read from the environment, and other values are refused', () => {
    const env = { COUNTERSIGN_AUTH_SECRET: 'x'.repeat(32) };
    expect(loadConfig(env).rateLimits.enabled).toBe(true);
    expect(loadConfig({ ...env, COUNTERSIGN_RATE_LIMIT_REQUESTS_BURST: '5' }).rateLimits.requestApproval).toEqual({ perSecond: 20, burst: 5 });
    expect(() => loadConfig({ ...env, COUNTERSIGN_RATE_LIMIT: 'maybe' })).toThrow('COUNTERSIGN_RATE_LIMIT');
  });
});
