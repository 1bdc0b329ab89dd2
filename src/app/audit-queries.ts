import { verifyChain, type ChainVerification, type VerifiableAuditEvent } from '../domain/audit-chain.js';
import type { AuditEvent } from '../db/entities/audit-event.entity.js';
import type { StatusPosition } from '../db/stores/approval-store.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { compareWithCheckpoint, type CheckpointComparison } from './checkpoints.js';
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

/** An approval whose stored status is not the status its audit trail ends in. */
export interface StateMismatch {
  approvalId: string;
  /** The approval's status as stored (null: the approval is gone, its trail remains). */
  status: string | null;
  /** The status its trail ends in (null: the approval has no trail). */
  trailStatus: string | null;
}

/** Most mismatches a verification lists; `stateMismatchCount` counts them all. */
const MAX_LISTED_MISMATCHES = 100;

/** A verification of a tenant's audit: its links, against a checkpoint if given, and against state. */
export interface AuditVerification {
  /** The chain's links are intact, it agrees with the checkpoint, and state agrees with it. */
  ok: boolean;
  /** The chain's links alone: {@link verifyChain}'s verdict over the whole chain. */
  chain: ChainVerification;
  checkpoint: CheckpointComparison | null;
  stateMismatches: StateMismatch[];
  stateMismatchCount: number;
}

/**
 * Verifies the caller's tenant's audit: every link of the chain, the chain against a signed
 * checkpoint kept elsewhere (truncation and re-hashing, which links alone cannot show), and the
 * approvals' stored status against the status their trail ends in (an EXECUTED approval whose
 * trail has no `executed`, an APPROVED one with no `token_issued`, ...).
 */
export async function verifyAudit(deps: GateDeps, caller: Caller, options: { checkpoint?: string | null } = {}): Promise<AuditVerification> {
  requireRole(caller, 'auditor', 'admin');
  // A checkpoint that does not verify is refused before the walk.
  const checkpoint = options.checkpoint ? await compareWithCheckpoint(deps, caller.tenant, options.checkpoint) : null;
  // The status each approval's trail ends in, noted by the walk, which reads every event anyway; a
  // walk that stopped at a break did not read them all: read them then.
  let trail = new Map<string, string>();
  const chain = await verifyAuditChain(deps, caller, (approvalId, status) => trail.set(approvalId, status));
  if (!chain.ok) trail = await trailStatuses(deps, caller.tenant);
  const mismatches = await stateMismatches(deps, caller.tenant, trail);
  return {
    ok: chain.ok && checkpoint?.problem == null && mismatches.length === 0,
    chain,
    checkpoint,
    stateMismatches: mismatches.slice(0, MAX_LISTED_MISMATCHES),
    stateMismatchCount: mismatches.length,
  };
}

/** The status each approval of `tenant` has in its trail's last event that gives one. */
async function trailStatuses(deps: GateDeps, tenant: string): Promise<Map<string, string>> {
  const trail = new Map<string, string>();
  for (let afterSeq = 0; ; ) {
    const rows = await deps.stores.audit.trailStatuses(tenant, afterSeq, VERIFY_PAGE);
    for (const row of rows) trail.set(row.approvalId, row.status);
    if (rows.length < VERIFY_PAGE) return trail;
    afterSeq = (rows.at(-1) as { seq: number }).seq;
  }
}

/** Approvals of `tenant` whose status differs from the status their trail ends in (`trail`, consumed). */
async function stateMismatches(deps: GateDeps, tenant: string, trail: Map<string, string>): Promise<StateMismatch[]> {
  const mismatches: StateMismatch[] = [];
  for (let after: StatusPosition | null = null; ; ) {
    const page = await deps.stores.approvals.statuses(tenant, after, VERIFY_PAGE);
    for (const approval of page.approvals) {
      const trailStatus = trail.get(approval.id) ?? null;
      if (trailStatus !== approval.status) mismatches.push({ approvalId: approval.id, status: approval.status, trailStatus });
      trail.delete(approval.id);
    }
    if (page.approvals.length < VERIFY_PAGE) break;
    after = page.end;
  }
  for (const [approvalId, trailStatus] of trail) mismatches.push({ approvalId, status: null, trailStatus });
  return mismatches;
}

/**
 * Walks the caller's tenant's whole chain and reports the first broken link; `onTrailStatus` is
 * told, in chain order, each status an event gives an approval (some of them only, when the
 * chain is broken).
 */
export async function verifyAuditChain(
  deps: GateDeps,
  caller: Caller,
  onTrailStatus?: (approvalId: string, status: string) => void,
): Promise<ChainVerification> {
  requireRole(caller, 'auditor', 'admin');
  await deps.committer.whenIdle();
  const inWorkers = await deps.stores.audit.verifyInWorkers(caller.tenant, onTrailStatus && { onTrailStatus });
  if (inWorkers) return inWorkers;
  let previousHash: string | undefined;
  let lastSeq = 0;
  let checked = 0;
  for (;;) {
    const events = await deps.stores.audit.chainAfter(caller.tenant, lastSeq, VERIFY_PAGE);
    if (events.length === 0) return { ok: true, checked };
    if (onTrailStatus) {
      for (const event of events) if (event.approvalId !== null && event.newStatus !== null) onTrailStatus(event.approvalId, event.newStatus);
    }
    if (checked === 0 && events[0] && events[0].seq !== 1) {
      return { ok: false, checked: 0, brokenAt: { seq: events[0].seq, id: events[0].id, reason: 'missing_predecessor' } };
    }
    if (lastSeq > 0 && events[0] && events[0].seq !== lastSeq + 1) {
      return { ok: false, checked, brokenAt: { seq: events[0].seq, id: events[0].id, reason: 'missing_predecessor' } };
    }
    const result = verifyChain(events, previousHash);
    if (!result.ok) return { ...result, checked: checked + result.checked };
    checked += result.checked;
    const last = events.at(-1) as VerifiableAuditEvent;
    previousHash = last.hash;
    lastSeq = last.seq;
  }
}
