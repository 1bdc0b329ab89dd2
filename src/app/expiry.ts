import type { FilterQuery } from '@mikro-orm/core';
import type { UnitOfWork } from '../db/committer.js';
import { Approval } from '../db/entities/approval.entity.js';
import { viewFor } from './access.js';
import { auditStatus, SYSTEM_ACTOR } from './audit-trail.js';
import type { GateDeps } from './deps.js';

/** Marks a lapsed pending request EXPIRED in `unit`, audited, published after commit. */
export async function expire(deps: GateDeps, unit: UnitOfWork, approval: Approval, now: Date): Promise<void> {
  approval.status = 'EXPIRED';
  approval.updatedAt = now;
  await auditStatus(unit, approval, 'expired', SYSTEM_ACTOR, 'PENDING', now, { expiresAt: approval.expiresAt.toISOString() });
  const view = viewFor(approval, null);
  unit.afterCommit(() => deps.publisher.publish({ approval: view, previousStatus: 'PENDING', kind: 'expired' }));
}

/** Expires one request in a job of its own, if it is still pending and lapsed. */
export function expireNow(deps: GateDeps, tenant: string, id: string): Promise<void> {
  return deps.committer.run((unit) => expireJob(deps, unit, tenant, id));
}

/** Marks the request EXPIRED in `unit` if it is still pending and has lapsed. */
export async function expireJob(deps: GateDeps, unit: UnitOfWork, tenant: string, id: string): Promise<void> {
  const approval = await unit.em.findOne(Approval, { id, tenant }, { populate: ['decisions'] });
  if (approval?.status === 'PENDING' && approval.expiresAt <= deps.now()) await expire(deps, unit, approval, deps.now());
}

/**
 * Marks lapsed pending requests EXPIRED, each audited; queued together, the committer groups
 * them into one commit. `scope` narrows the search, e.g. to one tenant before a listing.
 */
export async function expireLapsed(deps: GateDeps, scope: FilterQuery<Approval>, limit = 500): Promise<number> {
  const due = await deps.orm.em
    .fork()
    .find(Approval, { ...(scope as object), status: 'PENDING', expiresAt: { $lte: deps.now() } }, { fields: ['id', 'tenant'], limit });
  await Promise.all(due.map(({ id, tenant }) => expireNow(deps, tenant, id)));
  return due.length;
}
