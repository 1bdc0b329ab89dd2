import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { decodeProtectedHeader } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TEST_AUTH_SECRET, useTestServer } from '../support/server.js';
import { CLI_MAIN } from '../support/cli.js';

const run = promisify(execFile);

const REQUEST = `mutation($input: RequestApprovalInput!) {
  requestApproval(input: $input) { ... on RequestApprovalPayload { token approval { id } } ... on Error { code } }
}`;
const EXECUTE = `mutation($input: ExecuteInput!) {
  execute(input: $input) { __typename ... on ExecutePayload { approval { status } } ... on Error { code } }
}`;

describe('countersign keys rotate, against a running server', () => {
  const server = useTestServer({ expirySweepMs: 100 });
  let agent: string;
  beforeAll(async () => {
    agent = await server.token('mailer', 'rotation', ['agent']);
  });

  const allowedRequest = (to: string) => ({
    input: { action: 'email_response', context: { to }, estimatedDurationMinutes: 5 },
  });
  const jwks = async () => ((await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] }).keys;

  it('signs new tokens with the new key while the old key and its tokens stay valid', async () => {
    const before = await server.gql(agent, REQUEST, allowedRequest('a@example.com'));
    const oldToken = before.data.requestApproval.token as string;
    const oldKid = decodeProtectedHeader(oldToken).kid;
    expect((await jwks()).map((key) => key.kid)).toEqual([oldKid]);

    const { stdout } = await run(process.execPath, [CLI_MAIN, 'keys', 'rotate'], {
      cwd: REPO_ROOT,
      env: { ...process.env, COUNTERSIGN_DB: server.config.databasePath, COUNTERSIGN_AUTH_SECRET: TEST_AUTH_SECRET },
    });
    expect(stdout).toContain('new signing key');

    // The server picks the rotation up on its periodic refresh, without a restart.
    await expect.poll(async () => (await jwks()).length, { timeout: 5000 }).toBe(2);
    const after = await server.gql(agent, REQUEST, allowedRequest('b@example.com'));
    const newKid = decodeProtectedHeader(after.data.requestApproval.token as string).kid;
    expect(newKid).not.toBe(oldKid);
    expect((await jwks()).map((key) => key.kid).sort()).toEqual([oldKid, newKid].sort());

    const executed = await server.gql(agent, EXECUTE, {
      input: { token: oldToken, action: 'email_response', context: { to: 'a@example.com' } },
    });
    expect(executed.data.execute).toEqual({ __typename: 'ExecutePayload', approval: { status: 'EXECUTED' } });
  });
});
