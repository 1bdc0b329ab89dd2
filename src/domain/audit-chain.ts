import * as nodeCrypto from 'node:crypto';

import { canonicalize } from './canonical-json.js';
import { InvalidInputError } from './errors.js';

/** The `previousHash` of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed content of an audit event. */
export interface AuditEventContent {
  id: string;
  tenant: string;
  /** Position in the tenant's chain; consecutive integers. */
  seq: number;
  type: string;
  approvalId: string | null;
  actor: string;
  previousStatus: string | null;
  newStatus: string | null;
  /** Any JSON value. */
  details: unknown;
  occurredAt: Date;
}

/** An audit event as stored: its content plus the links of the chain. */
export interface AuditChainEvent extends AuditEventContent {
  /** Hash of the preceding event ({@link GENESIS_HASH}, or null, for the first). */
  previousHash: string | null;
  /** {@link auditEventHash} of this event. */
  hash: string;
}

/** Why {@link verifyChain} stopped. */
export type ChainBreakReason =
  /** The event's content does not hash to its stored `hash`: it was altered. */
  | 'hash_mismatch'
  /** The event's `seq` skips ahead: events in between are missing. */
  | 'missing_predecessor'
  /** The event's `seq` does not increase: events are duplicated or out of order. */
  | 'out_of_order'
  /** The event's `previousHash` is not the hash of the event before it. */
  | 'previous_hash_mismatch';

/** Outcome of {@link verifyChain}; `checked` counts the events that verified. */
export type ChainVerification =
  | { ok: true; checked: number }
  | { ok: false; checked: number; brokenAt: { seq: number; id: string; reason: ChainBreakReason } };

/**
 * Hash of an audit event chained to its predecessor: lowercase hex SHA-256 of the RFC 8785 canonical
 * JSON of all content fields plus `previousHash` (`occurredAt` as an ISO 8601 string; a null
 * `previousHash` counts as {@link GENESIS_HASH}). Changing any field, or the predecessor, changes it.
 */
export function auditEventHash(previousHash: string | null, event: AuditEventContent): string {
  return sha256Hex(canonicalAuditEvent(previousHash, event));
}

/**
 * One-shot `crypto.hash` (Node 20.12+) is about twice as fast as a Hash object for inputs this
 * small, and verifying a chain is dominated by hashing; older Node falls back to `createHash`.
 */
const sha256Hex: (text: string) => string =
  typeof nodeCrypto.hash === 'function'
    ? (text) => nodeCrypto.hash('sha256', text, 'hex')
    : (text) => nodeCrypto.createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * The canonical JSON that {@link auditEventHash} hashes. Members are written in RFC 8785 order by
 * hand, which is exactly `canonicalize` of the whole record without sorting keys per event.
 */
export function canonicalAuditEvent(previousHash: string | null, event: AuditEventContent): string {
  const occurredAt = event.occurredAt instanceof Date ? event.occurredAt.getTime() : Number.NaN;
  if (!Number.isFinite(occurredAt)) throw new InvalidInputError('occurredAt', 'must be a valid date');
  if (!Number.isSafeInteger(event.seq)) throw new InvalidInputError('seq', 'must be an integer');
  return (
    '{"actor":' +
    canonicalize(event.actor) +
    ',"approvalId":' +
    canonicalize(event.approvalId) +
    ',"details":' +
    canonicalize(event.details) +
    ',"id":' +
    canonicalize(event.id) +
    ',"newStatus":' +
    canonicalize(event.newStatus) +
    ',"occurredAt":"' +
    event.occurredAt.toISOString() +
    '","previousHash":' +
    canonicalize(previousHash ?? GENESIS_HASH) +
    ',"previousStatus":' +
    canonicalize(event.previousStatus) +
    ',"seq":' +
    String(event.seq) +
    ',"tenant":' +
    canonicalize(event.tenant) +
    ',"type":' +
    canonicalize(event.type) +
    '}'
  );
}

/**
 * Checks a run of audit events given in `seq` order: consecutive sequence numbers, each event
 * linked to the hash of the one before (the first to `startPreviousHash`, by default the genesis),
 * and each event's content matching its hash. Reports the first break.
 */
export function verifyChain(
  events: readonly AuditChainEvent[],
  startPreviousHash: string = GENESIS_HASH,
): ChainVerification {
  let expectedPreviousHash = startPreviousHash;
  let previousSeq = Number.NaN;

  for (let index = 0; index < events.length; index++) {
    const event = events[index] as AuditChainEvent;
    if (index > 0 && event.seq !== previousSeq + 1) {
      const reason = event.seq > previousSeq ? 'missing_predecessor' : 'out_of_order';
      return broken(index, event, reason);
    }
    if ((event.previousHash ?? GENESIS_HASH) !== expectedPreviousHash) {
      return broken(index, event, 'previous_hash_mismatch');
    }
    let hash: string;
    try {
      hash = auditEventHash(expectedPreviousHash, event);
    } catch {
      // A stored event that cannot even be serialised has been tampered with as surely as one
      // whose hash differs.
      return broken(index, event, 'hash_mismatch');
    }
    if (hash !== event.hash) return broken(index, event, 'hash_mismatch');

    expectedPreviousHash = event.hash;
    previousSeq = event.seq;
  }
  return { ok: true, checked: events.length };
}

function broken(checked: number, event: AuditChainEvent, reason: ChainBreakReason): ChainVerification {
  return { ok: false, checked, brokenAt: { seq: event.seq, id: event.id, reason } };
}
