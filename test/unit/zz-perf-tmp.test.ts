import { it } from 'vitest';
import { GENESIS_HASH, auditEventHash, verifyChain, type AuditChainEvent, type AuditEventContent } from '/work/main/src/domain/audit-chain.js';
function content(seq: number): AuditEventContent {
  return { id: `evt_${seq}`, tenant: 'acme', seq, type: 'approval.decided', approvalId: 'apr_1', actor: `user:${seq}`, previousStatus: 'PENDING', newStatus: 'PENDING', details: { vote: 'APPROVE', note: `vote ${seq}`, weights: [1, 2.5] }, occurredAt: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)) };
}
it('perf', () => {
  const events: AuditChainEvent[] = [];
  let previousHash = GENESIS_HASH;
  let t = performance.now();
  for (let seq = 1; seq <= 100000; seq++) { const c = content(seq); const hash = auditEventHash(previousHash, c); events.push({ ...c, previousHash, hash }); previousHash = hash; }
  console.log('build', 100000 / (performance.now() - t) * 1000 | 0);
  for (let r = 0; r < 4; r++) { t = performance.now(); verifyChain(events); console.log('verify', 100000 / (performance.now() - t) * 1000 | 0); }
});
