import type { VerifiableAuditEvent } from '../domain/audit-chain.js';

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
 * (SQLite) stay text, which verification hashes as stored; a driver that parses JSON columns
 * itself (PostgreSQL's jsonb) gives them parsed.
 */
export function chainEvent(row: unknown[]): VerifiableAuditEvent {
  const [id, tenant, seq, type, approvalId, actor, previousStatus, newStatus, details, occurredAt, previousHash, hash] = row;
  const at = occurredAt instanceof Date ? occurredAt : new Date(occurredAt as number | string);
  // Two literals rather than one spread into another: a million of these are made per verification.
  return typeof details === 'string'
    ? {
        id: id as string,
        tenant: tenant as string,
        seq: Number(seq),
        type: type as string,
        approvalId: (approvalId as string | null) ?? null,
        actor: actor as string,
        previousStatus: (previousStatus as string | null) ?? null,
        newStatus: (newStatus as string | null) ?? null,
        detailsJson: details,
        occurredAt: at,
        previousHash: previousHash as string,
        hash: hash as string,
      }
    : {
        id: id as string,
        tenant: tenant as string,
        seq: Number(seq),
        type: type as string,
        approvalId: (approvalId as string | null) ?? null,
        actor: actor as string,
        previousStatus: (previousStatus as string | null) ?? null,
        newStatus: (newStatus as string | null) ?? null,
        details,
        occurredAt: at,
        previousHash: previousHash as string,
        hash: hash as string,
      };
}
