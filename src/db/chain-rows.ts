import type { StoredAuditChainEvent } from '../domain/audit-chain.js';
import { canonicalize } from '../domain/canonical-json.js';

/** The columns of an audit event that its chain link and hash cover, in select order. */
export const CHAIN_COLUMNS = [
  'id',
  'tenant',
  'seq',
  'type',
  'approval_id',
  'actor',
  'previous_status',
  'new_status',
  'details',
  'occurred_at',
  'previous_hash',
  'hash',
] as const;

/**
 * A stored event from its columns, in {@link CHAIN_COLUMNS} order. Details that come back as text
 * (SQLite) stay text, which verification hashes as stored; details a driver parsed itself
 * (PostgreSQL's jsonb) are given as their canonical text, which is what verifying them parsed
 * would hash. One object shape either way: a million of these are made per verification.
 */
export function chainEvent(row: unknown[]): StoredAuditChainEvent {
  const [id, tenant, seq, type, approvalId, actor, previousStatus, newStatus, details, occurredAt, previousHash, hash] = row;
  return {
    id: id as string,
    tenant: tenant as string,
    seq: Number(seq),
    type: type as string,
    approvalId: (approvalId as string | null) ?? null,
    actor: actor as string,
    previousStatus: (previousStatus as string | null) ?? null,
    newStatus: (newStatus as string | null) ?? null,
    detailsJson: typeof details === 'string' ? details : canonicalize(details),
    occurredAt: occurredAt instanceof Date ? occurredAt : new Date(occurredAt as number | string),
    previousHash: previousHash as string,
    hash: hash as string,
  };
}
