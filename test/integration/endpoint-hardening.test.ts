import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ALLOWED_EMAIL, PENDING_PAYMENT, REQUEST_APPROVAL, request, uniqueTenant } from '../support/clients.js';
import { COMPLETE_EXECUTION, EXECUTE } from '../support/gate-documents.js';
import { EXECUTIONS_BEFORE_COMPILING } from '../../src/transports/http/compiled-execution.js';
import { startTestServer, type TestServer, useTestServer } from '../support/server.js';

/** Sends `head` as it is over TCP (fetch would not send a GET with a Content-Length) and returns the answer's text. */
function rawRequest(base: string, head: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(answer));
  });
}

describe('one meaning for every input', () => {
  const server = useTestServer();
  let agent: string;
  beforeAll(async () => {
    agent = await server.token('bot', uniqueTenant('inputs'), ['agent']);
  });

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${agent}`, ...headers },
      body,
    });

  it('refuses an integer beyond 2^53−1 in the variables, naming its path, instead of rounding it', async () => {
    const body = `{"query":${JSON.stringify(REQUEST_APPROVAL)},"variables":{"input":{"action":"payment","context":{"account":9007199254740993}}}}`;
    const response = await post(body);
    const result = (await response.json()) as any;
    expect(response.status).toBe(400);
    expect(result.errors[0].extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$.variables.input.context.account' });
  });

  it('refuses an integer beyond 2^53−1 written in the document, naming its path', async () => {
    const query = `mutation { requestApproval(input: { action: "payment", context: { to: { account: 9007199254740993 } } }) { __typename } }`;
    const result = await server.gql(agent, query);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.['code']).toBe('INVALID_INPUT');
    expect(result.errors?.[0]?.message).toContain('$.to.account');
  });

  it('refuses a body that names a member twice, instead of keeping the last', async () => {
    const body = `{"query":${JSON.stringify(REQUEST_APPROVAL)},"variables":{"input":{"action":"payment","context":{"amount":250000,"amount":10}}}}`;
    const result = (await (await post(body)).json()) as any;
    expect(result.errors[0].extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$.variables.input.context.amount' });
  });

  it('answers 5,000 nested objects in a context with INVALID_INPUT, not an unexpected error', async () => {
    const context = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const body = `{"query":${JSON.stringify(REQUEST_APPROVAL)},"variables":{"input":{"action":"payment","context":${context}}}}`;
    const result = (await (await post(body)).json()) as any;
    expect(result.errors[0].extensions.code).toBe('INVALID_INPUT');
    expect(result.errors[0].message).toContain('deeper than');
  });

  it('refuses a context nested deeper than the domain allows even inside the body limit', async () => {
    const context = { a: JSON.parse('{"b":'.repeat(70) + '1' + '}'.repeat(70)) };
    const result = await server.gql(agent, REQUEST_APPROVAL, { input: { action: 'payment', context } });
    expect(result.data?.requestApproval).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(result.data?.requestApproval.message).toContain('deeper than 64');
  });

  it('answers a 2,000-deep list literal with a limit error before the parser recurses, not HTTP 500', async () => {
    const query = `mutation { requestApproval(input: { action: "payment", context: { a: ${'['.repeat(2000)}${']'.repeat(2000)} } }) { __typename } }`;
    const response = await post(JSON.stringify({ query }));
    expect(response.status).toBeLessThan(500);
    const result = (await response.json()) as any;
    expect(result.errors[0].extensions.code).toBe('LIMIT_EXCEEDED');
    expect(result.errors[0].message).toContain('nests');
  });

  it('counts the context limit in bytes of UTF-8, not in characters', async () => {
    const result = await server.gql(agent, REQUEST_APPROVAL, { input: { action: 'payment', context: { note: 'é'.repeat(40_000) } } });
    expect(result.data?.requestApproval).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(result.data?.requestApproval.message).toContain('at context: must be at most 65536 bytes');
  });

  it('caps an execution result like a context, on execute and on completeExecution', async () => {
    const { token } = await request(server, agent, ALLOWED_EMAIL);
    const big = { log: 'x'.repeat(70_000) };
    const refused = await server.gql(agent, EXECUTE, { input: { token, action: ALLOWED_EMAIL.action, context: ALLOWED_EMAIL.context, outcome: 'SUCCEEDED', result: big } });
    expect(refused.data?.execute).toMatchObject({ __typename: 'InvalidInputError', field: 'result' });

    const started = await server.gql(agent, EXECUTE, { input: { token, action: ALLOWED_EMAIL.action, context: ALLOWED_EMAIL.context } });
    const executionId = started.data?.execute.execution.id as string;
    expect(executionId).toBeTruthy();
    const tooBig = await server.gql(agent, COMPLETE_EXECUTION, { input: { executionId, outcome: 'SUCCEEDED', result: big } });
    expect(tooBig.data?.completeExecution).toMatchObject({ __typename: 'InvalidInputError', field: 'result' });

    // A second report names the execution, not the approval.
    expect((await server.gql(agent, COMPLETE_EXECUTION, { input: { executionId, outcome: 'SUCCEEDED', result: { ok: true } } })).data?.completeExecution.__typename).toBe(
      'ExecutePayload',
    );
    const again = await server.gql(agent, COMPLETE_EXECUTION, { input: { executionId, outcome: 'FAILED' } });
    expect(again.data?.completeExecution).toMatchObject({ __typename: 'AlreadyDecidedError' });
    expect(again.data?.completeExecution.message).toContain(`Execution ${executionId}`);
  });

  it('treats code written in string literals of a compiled document as data, and answers the next request', async () => {
    // A document sent again and again runs as code compiled from it: its literals must stay values.
    const hostile = 'x"); globalThis.compromised = true; ("';
    const lookupDocument = `{ approval(id: ${JSON.stringify(hostile)}) { __typename ... on Error { code } } }`;
    const requestDocument = `mutation { requestApproval(input: { action: "payment", resource: ${JSON.stringify(hostile)}, context: { note: ${JSON.stringify(hostile)} } }) { __typename ... on RequestApprovalPayload { approval { resource context } } } }`;
    for (let sent = 0; sent <= EXECUTIONS_BEFORE_COMPILING; sent++) {
      const lookup = await server.gql(agent, lookupDocument);
      expect(lookup.data).toEqual({ approval: { __typename: 'NotFoundError', code: 'NOT_FOUND' } });
      const requested = await server.gql(agent, requestDocument);
      expect(requested.data).toMatchObject({ requestApproval: { __typename: 'RequestApprovalPayload', approval: { resource: hostile, context: { note: hostile } } } });
    }
    expect((globalThis as { compromised?: boolean }).compromised).toBeUndefined();
    expect((await server.gql(agent, '{ __typename }')).data).toEqual({ __typename: 'Query' });
  });

  it('reads a variable written inside a context literal as its value, not as absent, however often it is sent', async () => {
    const document = `mutation ($amount: Float!, $note: String) { requestApproval(input: { action: "payment", context: { amount: $amount, lines: [{ note: $note }] } }) { __typename ... on RequestApprovalPayload { approval { context } } } }`;
    for (let sent = 0; sent <= EXECUTIONS_BEFORE_COMPILING; sent++) {
      const requested = await server.gql(agent, document, { amount: 1500 + sent, note: 'rent' });
      expect(requested.data).toMatchObject({ requestApproval: { approval: { context: { amount: 1500 + sent, lines: [{ note: 'rent' }] } } } });
    }
  });

  it('says an oversized token is too long, not that it is required', async () => {
    const result = await server.gql(agent, EXECUTE, { input: { token: 'x'.repeat(9000), action: 'payment', context: {} } });
    expect(result.data?.execute).toMatchObject({ __typename: 'InvalidInputError', field: 'token' });
    expect(result.data?.execute.problem).toContain('too long');
  });
});

describe('bounded requests', () => {
  const server = useTestServer();
  let agent: string;
  beforeAll(async () => {
    agent = await server.token('bot', uniqueTenant('bounds'), ['agent', 'auditor']);
  });

  it('refuses a body over the limit (1 MiB by default) before parsing or authenticating it', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1024 * 1024) } });
    const response = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(413);
    // Without a Content-Length (chunked), the limit holds while reading.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    const chunked = await fetch(server.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });

  it('answers a body within the limit whether its length is declared or not, and refuses a length that is not one integer', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1024 * 1024 - 100) } });
    const declared = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(await declared.json()).toEqual({ data: { __typename: 'Query' } });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body.slice(0, 1000)));
        controller.enqueue(new TextEncoder().encode(body.slice(1000)));
        controller.close();
      },
    });
    const chunked = await fetch(server.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: stream, duplex: 'half' } as RequestInit);
    expect(await chunked.json()).toEqual({ data: { __typename: 'Query' } });
    const query = '{"query":"{ __typename }"}';
    const malformed = await rawRequest(
      server.url,
      `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: +${query.length}\r\nConnection: close\r\n\r\n${query}`,
    );
    expect(malformed).toMatch(/^HTTP\/1\.1 400/);
  });

  it('holds the same body limit on the routes beside /graphql, before authenticating', async () => {
    const oversized = 'x'.repeat(1024 * 1024 + 1);
    // A declared length over the limit is refused before the route looks at the token.
    const raw = await rawRequest(server.url, `GET /audit/checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: ${oversized.length}\r\nConnection: close\r\n\r\n`);
    expect(raw).toMatch(/^HTTP\/1\.1 413/);
    const smuggled = await rawRequest(server.url, `GET /audit/checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nConnection: close\r\n\r\nhello`);
    expect(smuggled).toMatch(/^HTTP\/1\.1 400/);

    // The development token route reads its JSON bounded, chunked or not.
    const devToken = (body: BodyInit) =>
      fetch(`${server.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    const padded = JSON.stringify({ subject: 'a', tenant: 'b', roles: ['agent'], pad: oversized });
    expect((await devToken(padded)).status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(padded));
        controller.close();
      },
    });
    expect((await devToken(stream)).status).toBe(413);
    expect((await devToken(JSON.stringify({ subject: 'a', tenant: 'b', roles: ['agent'] }))).status).toBe(200);

    // MCP takes at most 256 KiB, refused before the token is verified.
    const mcp = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(300 * 1024) } }),
    });
    expect(mcp.status).toBe(413);
  });

  it('refuses 160 aliased verifyAuditChain, and even two, before any resolver runs', async () => {
    const flood = `{ ${Array.from({ length: 160 }, (_, index) => `v${index}: verifyAuditChain { __typename }`).join(' ')} }`;
    const result = await server.gql(agent, flood);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.['code']).toBe('LIMIT_EXCEEDED');
    const twice = await server.gql(agent, `query { ...A ...B } fragment A on Query { a: verifyAuditChain { __typename } } fragment B on Query { b: verifyAuditChain { __typename } }`);
    expect(twice.errors?.[0]?.message).toContain('verifyAuditChain may be selected at most 1');
    const once = await server.gql(agent, `{ verifyAuditChain { __typename } }`);
    expect(once.errors).toBeUndefined();
  });

  it('refuses too many aliases, tokens and directives', async () => {
    const aliases = await server.gql(agent, `{ ${Array.from({ length: 20 }, (_, index) => `t${index}: tenantSettings { __typename }`).join(' ')} }`);
    expect(aliases.errors?.[0]?.extensions?.['code']).toBe('LIMIT_EXCEEDED');
    const tokens = await server.gql(agent, `{ __typename ${'@include(if: true) '.repeat(500)} }`);
    expect(tokens.errors?.[0]?.extensions?.['code']).toBe('LIMIT_EXCEEDED');
    const directives = await server.gql(agent, `{ __typename ${'@skip(if: false) '.repeat(40)} }`);
    expect(directives.errors?.[0]?.extensions?.['code']).toBe('LIMIT_EXCEEDED');
  });
});

describe('production defaults of a public endpoint', () => {
  let production: TestServer;
  let development: TestServer;
  let agent: string;
  beforeAll(async () => {
    production = await startTestServer({ introspection: false, fieldSuggestions: false });
    development = await startTestServer({ corsOrigins: ['https://inbox.example.com'] });
    agent = await production.token('bot', uniqueTenant('prod'), ['agent']);
  });
  afterAll(async () => {
    await production.close();
    await development.close();
  });

  it('turns introspection and suggestions off with NODE_ENV=production unless enabled', () => {
    const env = {
      NODE_ENV: 'production',
      COUNTERSIGN_AUTH_SECRET: 'x'.repeat(32),
      COUNTERSIGN_AUTH_ISSUER: 'i',
      COUNTERSIGN_AUTH_AUDIENCE: 'a',
      COUNTERSIGN_KEY_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    };
    expect(loadConfig(env)).toMatchObject({ introspection: false, fieldSuggestions: false, corsOrigins: [] });
    expect(loadConfig({ ...env, COUNTERSIGN_INTROSPECTION: 'true', COUNTERSIGN_FIELD_SUGGESTIONS: 'true' })).toMatchObject({
      introspection: true,
      fieldSuggestions: true,
    });
    expect(loadConfig({})).toMatchObject({ introspection: true, fieldSuggestions: true });
  });

  it('answers no introspection, with or without a token, when it is off', async () => {
    for (const token of [null, agent]) {
      const result = await production.gql(token, '{ __schema { types { name } } }');
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0]?.message).toContain('introspection');
    }
    expect((await development.gql(null, '{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('suggests no field names when suggestions are off', async () => {
    const result = await production.gql(agent, '{ tenantSetting { __typename } }');
    expect(result.errors?.[0]?.message).not.toContain('Did you mean');
    expect((await development.gql(agent, '{ tenantSetting { __typename } }')).errors?.[0]?.message).toContain('Did you mean');
  });

  it('refuses form, multipart and text/plain POSTs, which a cross-site page can send without a preflight', async () => {
    const query = `mutation { requestApproval(input: { action: "payment", context: { amount: 1 } }) { __typename } }`;
    const form = new FormData();
    form.set('operations', JSON.stringify({ query }));
    form.set('map', '{}');
    for (const body of [new URLSearchParams({ query }), form, JSON.stringify({ query })]) {
      const response = await fetch(production.graphqlUrl, { method: 'POST', headers: { authorization: `Bearer ${agent}` }, body });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(await response.json())).not.toContain('RequestApprovalPayload');
    }
  });

  it('requires a CSRF header on GET requests', async () => {
    const url = `${production.graphqlUrl}?query=${encodeURIComponent('{ __typename }')}`;
    expect((await fetch(url)).status).toBe(403);
    const allowed = await fetch(url, { headers: { 'x-graphql-yoga-csrf': '1' } });
    expect(await allowed.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('sends no CORS headers unless origins are configured, and only for those', async () => {
    const preflight = (server: TestServer, origin: string) =>
      fetch(server.graphqlUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const simple = await fetch(production.graphqlUrl, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(production, 'https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight(development, 'https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    expect((await preflight(development, 'https://inbox.example.com')).headers.get('access-control-allow-origin')).toBe('https://inbox.example.com');
  });

  it('still serves the SDK-style JSON POST', async () => {
    const result = await production.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT });
    expect(result.data?.requestApproval.__typename).toBe('RequestApprovalPayload');
  });
});
