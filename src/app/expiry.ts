import type { UnitOfWork } from '../db/committer.js';
import type { Approval } from '../db/entities/approval.entity.js';
import { expired } from '../domain/transitions.js';
import { viewFor } from './access.js';
import type { GateDeps } from './deps.js';
import { record } from './record.js';

/** Marks a lapsed pending request EXPIRED in `unit`, audited, published after commit. */
export async function expire(deps: GateDeps, unit: UnitOfWork, approval: Approval, now: Date): Promise<void> {
  approval.status = 'EXPIRED';
  approval.updatedAt = now;
  await deps.stores.approvals.save(unit.em, approval);
  const transition = expired({ tenant: approval.tenant, approvalId: approval.id, occurredAt: now, expiresAt: approval.expiresAt });
  await record(deps, unit, transition, viewFor(approval, null));
}

/** Expires one request in a job of its own, if it is still pending and lapsed. */
export function expireNow(deps: GateDeps, tenant: string, id: string): Promise<void> {
  return deps.committer.run((unit) => expireJob(deps, unit, tenant, id));
}

/** Marks the request EXPIRED in `unit` if it is still pending and has lapsed. */
export async function expireJob(deps: GateDeps, unit: UnitOfWork, tenant: string, id: string): Promise<void> {
  const approval = await deps.stores.approvals.load(unit.em, tenant, id);
  if (approval?.status === 'PENDING' && approval.expiresAt <= deps.now()) await expire(deps, unit, approval, deps.now());
}

/**
 * Marks lapsed pending requests EXPIRED, each audited; queued together, the committer groups
 * them into one commit. `tenant` narrows the search, e.g. to one tenant before a listing.
 */
export async function expireLapsed(deps: GateDeps, tenant?: string, limit = 500): Promise<number> {
  const due = await deps.stores.approvals.lapsed(deps.now(), limit, tenant);
  await Promise.all(due.map((approval) => expireNow(deps, approval.tenant, approval.id)));
  return due.length;
}
