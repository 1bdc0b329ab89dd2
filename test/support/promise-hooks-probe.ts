/**
 * Run in a process of its own (the test runner's may have promise hooks on already): starts a
 * server, drives requests, a subscriber's delivery, a decision and an execution through it, and prints whether
 * promise hooks were on at each step as one JSON line.
 */
import { executionAsyncResource } from 'node:async_hooks';
import { startTestServer } from './server.js';
import { COMPLETE_EXECUTION, EXECUTE } from './gate-documents.js';
import { DECIDE, PENDING_PAYMENT, REQUEST_APPROVAL, uniqueTenant, untilSubscribed, wsSubscribe } from './clients.js';

/** With promise hooks off, every continuation runs in the same async resource. */
async function promiseHooksOn(): Promise<boolean> {
  await null;
  const first = executionAsyncResource();
  await null;
  return executionAsyncResource() !== first;
}

const steps: Record<string, boolean> = { beforeStart: await promiseHooksOn() };
const server = await startTestServer({ expirySweepMs: 3_600_000 });
try {
  steps['started'] = await promiseHooksOn();
  const tenant = uniqueTenant('hooks');
  const agent = await server.token('agent-1', tenant, ['agent']);
  const approver = await server.token('alice', tenant, ['approver']);
  const pending = wsSubscribe(server, approver, 'subscription { pendingApprovals { kind approval { id } } }');
  await untilSubscribed(server, tenant);
  const allowed = await server.gql(agent, REQUEST_APPROVAL, { input: { action: 'send_email', context: { recipients: 1 }, confidence: 0.95 } });
  const asked = await server.gql(agent, REQUEST_APPROVAL, { input: PENDING_PAYMENT });
  const delivered = await pending.nextData();
  await pending.close();
  steps['served'] = await promiseHooksOn();
  const pendingId = asked.data.requestApproval.approval.id;
  const decided = await server.gql(approver, DECIDE, { input: { approvalId: pendingId, decision: 'APPROVE' } });
  const approvedToken = (await server.gql(agent, 'query ($id: ID!) { approval(id: $id) { ... on Approval { decisionToken } } }', { id: pendingId })).data?.approval?.decisionToken;
  const executed = await server.gql(agent, EXECUTE, { input: { token: approvedToken, ...PENDING_PAYMENT } });
  const completed = await server.gql(agent, COMPLETE_EXECUTION, { input: { executionId: executed.data?.execute?.execution?.id, outcome: 'SUCCEEDED' } });
  steps['decidedAndExecuted'] = await promiseHooksOn();
  process.stdout.write(
    JSON.stringify({
      steps,
      allowed: allowed.data?.requestApproval?.approval?.status ?? allowed,
      pending: asked.data?.requestApproval?.approval?.status ?? asked,
      delivered: delivered.pendingApprovals.kind,
      decided: decided.data?.decide?.status ?? decided,
      executed: executed.data?.execute?.execution?.status ?? executed,
      completed: completed.data?.completeExecution?.execution?.status ?? completed,
    }) + '\n',
  );
} finally {
  await server.close();
}
