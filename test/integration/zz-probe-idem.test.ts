import { it } from 'vitest';
import { startTestServer } from '../support/server.js';
import { freshTenant, PAYMENT_ONE_APPROVER } from '../support/gate.js';
it('probe idempotency race', async () => {
  const s = await startTestServer();
  const warm = await freshTenant(s);
  await Promise.all(Array.from({ length: 50 }, () => warm.auditor.approvals({ first: 1 })));
  for (let round = 0; round < 30; round++) {
    const t = await freshTenant(s);
    const input = { ...PAYMENT_ONE_APPROVER, idempotencyKey: 'k' };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => i % 3 === 0 ? warm.agent.requestApproval({ ...PAYMENT_ONE_APPROVER }) : t.agent.requestApproval(input)));
    const mine = results.filter((_, i) => i % 3 !== 0) as any[];
    const bad = mine.filter((r) => r.__typename !== 'RequestApprovalPayload');
    const ids = new Set(mine.filter((r) => r.approval).map((r) => r.approval.id));
    const fresh = mine.filter((r) => r.replayed === false).length;
    if (bad.length || ids.size !== 1 || fresh !== 1) console.log('ROUND', round, JSON.stringify({ bad: bad.slice(0, 2), ids: ids.size, fresh }));
  }
  await s.close();
}, 120_000);
