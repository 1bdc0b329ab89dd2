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
    detailsJson: typeof details === 'string' ? details : storedDetails(details),
    occurredAt: occurredAt instanceof Date ? occurredAt : new Date(occurredAt as number | string),
    previousHash: previousHash as string,
    hash: hash as string,
  };
}

/**
 * Details a driver parsed, as their canonical text. Details of which none can be made (a blob, a
 * number JSON cannot carry exactly) are not what the gate wrote: they are given as empty text,
 * which hashes to no stored hash and is not JSON, so verification reports that event's
 * `hash_mismatch` instead of failing as a whole.
 */
function storedDetails(details: unknown): string {
  try {
    return canonicalize(details);
  } catch {
    return '';
  }
}

/**
 * A select list that has SQLite write the text an event's hash covers (`canonicalAuditEvent` with
 * the details as stored) in two parts, before and after the time, which JavaScript writes between
 * them (`auditTextHash(head, occurredAt, tail)`): verifying an event that hashes to its stored hash
 * then reads six values and two strings instead of twelve values and builds almost nothing in
 * JavaScript. Reading the columns and writing the text cost more than the hash. Bound:
 * `@tenantJson`, the canonical JSON of the tenant the statement selects (its rows hold exactly
 * that tenant).
 *
 * It is a shortcut, never a verdict. A row whose text hashes to its stored hash has the content
 * that was hashed: every field is written as a self-delimiting JSON token (`json_quote` escapes as
 * `JSON.stringify` does, and writes null as `null`), so equal texts mean equal fields. Any other
 * row (a value `json_quote` writes otherwise than the canonical form, details that are not the
 * canonical text, a tampered row) gives some other text, fails to match, and is checked by
 * `verifyChain` from its columns exactly as without the shortcut. Details of another storage class
 * than text give NULL, never text that could match by accident.
 *
 * Columns: `seq`, `previous_hash`, `hash`, `approval_id`, `new_status`, the text's head,
 * `occurred_at`, its tail.
 */
export const CHAIN_TEXT_SELECT = [
  'seq',
  'previous_hash',
  'hash',
  'approval_id',
  'new_status',
  "concat('{\"actor\":', json_quote(actor), ',\"approvalId\":', json_quote(approval_id), " +
    "',\"details\":', case when typeof(details) = 'text' then details end, " +
    "',\"id\":', json_quote(id), ',\"newStatus\":', json_quote(new_status), ',\"occurredAt\":\"')",
  'occurred_at',
  "concat('\",\"previousHash\":', json_quote(previous_hash), ',\"previousStatus\":', json_quote(previous_status), " +
    "',\"seq\":', seq, ',\"tenant\":', @tenantJson, ',\"type\":', json_quote(type), '}')",
].join(', ');

/**
 * The events of tenant `@tenant` with `@fromSeq < seq <= @toSeq`, in `seq` order, as
 * {@link CHAIN_TEXT_SELECT} writes them (bound: `@tenantJson` too).
 */
export const CHAIN_TEXT_SQL = `select ${CHAIN_TEXT_SELECT} from audit_event where tenant = @tenant and seq > @fromSeq and seq <= @toSeq order by seq`;
