/**
 * Rate limits across instances: with COUNTERSIGN_REDIS_URL the buckets live in Redis, so a caller
 * (or a guessing address) has one bucket however many instances behind the load balancer it
 * reaches; while Redis is unreachable each instance still limits on its own.
 */
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, RateLimits } from '../../src/app/rate-limits.js';
import { RateLimitedError } from '../../src/domain/errors.js';
import { PENDING_PAYMENT, uniqueTenant } from '../support/clients.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import type { TestServer } from '../support/server.js';

const REQUEST = /* GraphQL */ `
  mutation ($input: RequestApprovalInput!) {
    requestApproval(input: $input) {
      __typename
      ... on RateLimitedError { code retryAfterSeconds }
    }
  }
`;

/** One request a second, 15 in reserve: a caller's whole allowance is far below what two separate buckets would give. */
const LIMIT = { perSecond: 1, burst: 15 };
const FAILED_AUTH_LIMIT = { perSecond: 1, burst: 6 };

/** What one bucket lets through in `elapsedMs`: the reserve, and the steady rate's points meanwhile. */
const allowance = (limit: { perSecond: number; burst: number }, elapsedMs: number) =>
  limit.burst + limit.perSecond * (Math.ceil(elapsedMs / 1000) + 1);

describe('two instances sharing Redis', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    cluster = await startCluster({
      redis: true,
      overrides: { rateLimits: { ...DEFAULT_RATE_LIMITS, requestApproval: LIMIT, failedAuthentication: FAILED_AUTH_LIMIT } },
    });
    [a, b] = cluster.instances as [TestServer, TestServer];
  }, 60_000);
  afterAll(() => cluster?.close());

  it('give a caller one requestApproval bucket, not one per instance', async () => {
    const tenant = uniqueTenant('shared-limit');
    const token = await a.token('bot', tenant, ['agent']);
    const accepted = { a: 0, b: 0 };
    const refused = { a: 0, b: 0 };
    const started = Date.now();
    for (let attempt = 0; attempt < 40; attempt++) {
      const [name, instance] = attempt % 2 === 0 ? (['a', a] as const) : (['b', b] as const);
      const result = (await instance.gql(token, REQUEST, { input: PENDING_PAYMENT })).data?.requestApproval;
      if (result?.__typename === 'RequestApprovalPayload') accepted[name]++;
      else {
        expect(result).toMatchObject({ __typename: 'RateLimitedError', code: 'RATE_LIMITED' });
        expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(1);
        refused[name]++;
      }
    }
    const elapsed = Date.now() - started;
    // Two buckets of their own would have let through at least 2 × 15 = 30.
    expect(accepted.a + accepted.b).toBeLessThanOrEqual(allowance(LIMIT, elapsed));
    expect(accepted.a + accepted.b).toBeLessThan(2 * LIMIT.burst);
    expect(accepted.a).toBeGreaterThan(0);
    expect(accepted.b).toBeGreaterThan(0);
    expect(refused.a).toBeGreaterThan(0);
    expect(refused.b).toBeGreaterThan(0);
    // Another caller of the same tenant has a bucket of its own.
    const other = await b.token('other-bot', tenant, ['agent']);
    expect((await b.gql(other, REQUEST, { input: PENDING_PAYMENT })).data?.requestApproval.__typename).toBe('RequestApprovalPayload');
  });

  it('give a guessing address one failed-authentication bucket across instances', async () => {
    const statuses: number[] = [];
    const started = Date.now();
    for (let attempt = 0; attempt < 24; attempt++) {
      const instance = attempt % 2 === 0 ? a : b;
      const response = await fetch(instance.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer forged.${attempt}.shared` },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      statuses.push(response.status);
      await response.body?.cancel();
    }
    const answered = statuses.filter((status) => status === 200).length;
    expect(answered).toBeLessThanOrEqual(allowance(FAILED_AUTH_LIMIT, Date.now() - started));
    expect(answered).toBeLessThan(2 * FAILED_AUTH_LIMIT.burst);
    expect(statuses.filter((_, index) => index % 2 === 1)).toContain(429);
    expect(statuses.filter((_, index) => index % 2 === 0)).toContain(429);
  });
});

describe('rate limits whose Redis is unreachable', () => {
  let redis: Redis;
  beforeAll(async () => {
    // A port nothing listens on: every command fails at once (no offline queue), as when Redis is down.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => {});
  });
  afterAll(() => redis.disconnect());

  it('still hold on each instance, from memory, and never fail the call with a Redis error', async () => {
    const limits = new RateLimits({ ...DEFAULT_RATE_LIMITS, requestApproval: { perSecond: 1, burst: 5 } }, { redis, prefix: 'unreachable:' });
    const outcomes: string[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      outcomes.push(
        await limits.requestApproval.take('tenant/bot').then(
          () => 'taken',
          (error: unknown) => (error instanceof RateLimitedError ? 'limited' : `failed: ${String(error)}`),
        ),
      );
    }
    expect(outcomes.filter((outcome) => outcome.startsWith('failed'))).toEqual([]);
    expect(outcomes.slice(0, 6)).toEqual(Array(6).fill('taken'));
    expect(outcomes.at(-1)).toBe('limited');
    await expect(limits.failedAuthentication.check('127.0.0.1')).resolves.toBeUndefined();
  });
});
