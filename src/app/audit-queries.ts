import { verifyChain, type AuditChainEvent, type ChainVerification } from '../domain/audit-chain.js';
import type { AuditEvent } from '../db/entities/audit-event.entity.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import type { AuditFilter } from './inputs.js';
import { decodeCursor, encodeCursor, pageSize, toPage, type Page } from './pagination.js';

/** Events read per step of a chain verification. */
const VERIFY_PAGE = 10_000;

/** A page of the caller's tenant's audit events, oldest first. */
export async function auditEvents(deps: GateDeps, caller: Caller, filter: AuditFilter): Promise<Page<AuditEvent>> {
  requireRole(caller, 'auditor', 'admin');
  const limit = pageSize(filter.first);
  const after = decodeCursor(filter.after, 1);
  const rows = await deps.stores.audit.list(
    { ...filter, tenant: caller.tenant, afterSeq: after ? (after[0] as number) : undefined },
    limit + 1,
  );
  return toPage(rows, limit, (row) => encodeCursor([row.seq]));
}

/** Walks the caller's tenant's whole chain and reports the first broken link. */
export async function verifyAuditChain(deps: GateDeps, caller: Caller): Promise<ChainVerification> {
  requireRole(caller, 'auditor', 'admin');
  await deps.committer.whenIdle();
  const inWorkers = await deps.stores.audit.verifyInWorkers(caller.tenant);
  if (inWorkers) return inWorkers;
  let previousHash: string | undefined;
  let lastSeq = 0;
  let checked = 0;
  for (;;) {
    const events = await deps.stores.audit.chainAfter(caller.tenant, lastSeq, VERIFY_PAGE);
    if (events.length === 0) return { ok: true, checked };
    if (checked === 0 && events[0] && events[0].seq !== 1) {
      return { ok: false, checked: 0, brokenAt: { seq: events[0].seq, id: events[0].id, reason: 'missing_predecessor' } };
    }
    if (lastSeq > 0 && events[0] && events[0].seq !== lastSeq + 1) {
      return { ok: false, checked, brokenAt: { seq: events[0].seq, id: events[0].id, reason: 'missing_predecessor' } };
    }
    const result = verifyChain(events, previousHash);
    if (!result.ok) return { ...result, checked: checked + result.checked };
    checked += result.checked;
    const last = events.at(-1) as AuditChainEvent;
    previousHash = last.hash;
    lastSeq = last.seq;
  }
}
