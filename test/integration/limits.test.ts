import { createClient } from 'graphql-ws';
import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sseSubscribe } from '../support/clients.js';
import { useTestServer } from '../support/server.js';

describe('operation limits', () => {
  const server = useTestServer();
  let approver: string;
  beforeAll(async () => {
    approver = await server.token('alice', 'limits', ['approver']);
  });

  const aliasFlood = (count: number) =>
    `{ ${Array.from({ length: count }, (_, index) => `a${index}: tenantSettings { __typename }`).join(' ')} }`;

  it('answers an ordinary query', async () => {
    const result = await server.gql(approver, aliasFlood(3));
    expect(result.errors).toBeUndefined();
  });

  it('refuses an operation that selects too many fields, before running it', async () => {
    const result = await server.gql(approver, aliasFlood(300));
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.['code']).toBe('LIMIT_EXCEEDED');
  });

  it('refuses an oversized document', async () => {
    const result = await server.gql(approver, `{ tenantSettings { __typename } } # ${'x'.repeat(30_000)}`);
    expect(result.errors?.[0]?.extensions?.['code']).toBe('LIMIT_EXCEEDED');
  });

  it('applies the same limits to operations over graphql-ws', async () => {
    const client = createClient({
      url: server.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${approver}` },
      retryAttempts: 0,
    });
    try {
      const errors = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: aliasFlood(300) },
          { next: (value) => resolve(value.errors), error: (error) => resolve(error), complete: () => resolve(null) },
        );
      });
      expect(JSON.stringify(errors)).toContain('LIMIT_EXCEEDED');

      // A document the server cannot parse is answered on the same connection, which stays usable.
      const run = (query: string) =>
        new Promise<unknown>((resolve) => {
          client.subscribe({ query }, { next: resolve, error: resolve, complete: () => {} });
        });
      expect(JSON.stringify(await run('{ tenantSettings { '))).toContain('Syntax Error');
      expect(await run('{ tenantSettings { __typename } }')).toEqual({ data: { tenantSettings: { __typename: 'TenantSettings' } } });
    } finally {
      await client.dispose();
    }
  });

  it('applies the same limits to operations over Server-Sent Events', async () => {
    for (const query of [aliasFlood(300), `{ tenantSettings { __typename } } # ${'x'.repeat(30_000)}`, `subscription { pendingApprovals ${'{ kind '.repeat(60)}${'} '.repeat(60)} }`]) {
      // Too many aliases, too long, too deeply nested (refused before graphql-js parses it).
      const stream = await sseSubscribe(server, approver, query);
      const first = await stream.next();
      expect(first.data ?? null).toBeNull();
      expect(first.errors?.[0]?.extensions?.['code'], query.slice(0, 60)).toBe('LIMIT_EXCEEDED');
      await stream.close();
    }
  });
});
