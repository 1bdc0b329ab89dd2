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
 * An audit event as read back from a store that keeps its details as JSON text, not yet parsed:
 * verification hashes that text as it is stored (see {@link storedEventHash}).
 */
export interface StoredAuditChainEvent extends Omit<AuditChainEvent, 'details'> {
  /** The details as stored: JSON text, the canonical text when the gate wrote them. */
  detailsJson: string;
}

/** An event {@link verifyChain} can check: parsed, or with its details as stored. */
export type VerifiableAuditEvent = AuditChainEvent | StoredAuditChainEvent;

/**
 * Hash of an audit event chained to its predecessor: lowercase hex SHA-256 of the RFC 8785 canonical
 * JSON of all content fields plus `previousHash` (`occurredAt` as an ISO 8601 string; a null
 * `previousHash` counts as {@link GENESIS_HASH}). Changing any field, or the predecessor, changes it.
 */
export function auditEventHash(previousHash: string | null, event: AuditEventContent): string {
  return sha256Hex(canonicalAuditEvent(previousHash, event));
}

/**
 * {@link auditEventHash} of an event about to be stored, with the canonical text of its details
 * that it covers: a store that keeps the details as exactly that text lets verification hash the
 * stored text as it is, without parsing and canonicalising it again.
 */
export function hashAuditEvent(previousHash: string | null, event: AuditEventContent): { hash: string; detailsJson: string } {
  const detailsJson = canonicalize(event.details);
  return { hash: sha256Hex(canonicalEventText(previousHash, event, detailsJson)), detailsJson };
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
 * The hash of an event's canonical text ({@link canonicalAuditEvent}) given as the text before its
 * `occurredAt` value, the time, and the text after it: for a store that has the rest of the text
 * written for it. Null when `occurredAt` is not a time value (a whole number of milliseconds in
 * Date's range), which no canonical text holds.
 */
export function auditTextHash(head: string, occurredAt: unknown, tail: string): string | null {
  if (typeof occurredAt !== 'number' || !Number.isInteger(occurredAt) || Math.abs(occurredAt) > MAX_TIME) return null;
  return sha256Hex(head + isoTimestamp(occurredAt) + tail);
}

/**
 * The canonical JSON that {@link auditEventHash} hashes. Members are written in RFC 8785 order by
 * hand, which is exactly `canonicalize` of the whole record without sorting keys per event.
 */
export function canonicalAuditEvent(previousHash: string | null, event: AuditEventContent): string {
  return canonicalEventText(previousHash, event, canonicalize(event.details));
}

/** {@link canonicalAuditEvent} with the details given as their canonical text. */
function canonicalEventText(previousHash: string | null, event: Omit<AuditEventContent, 'details'>, detailsJson: string): string {
  const occurredAt = event.occurredAt instanceof Date ? event.occurredAt.getTime() : Number.NaN;
  if (!Number.isFinite(occurredAt)) throw new InvalidInputError('occurredAt', 'must be a valid date');
  if (!Number.isSafeInteger(event.seq)) throw new InvalidInputError('seq', 'must be an integer');
  return (
    '{"actor":' +
    canonicalize(event.actor) +
    ',"approvalId":' +
    canonicalize(event.approvalId) +
    ',"details":' +
    detailsJson +
    ',"id":' +
    canonicalize(event.id) +
    ',"newStatus":' +
    canonicalize(event.newStatus) +
    ',"occurredAt":"' +
    isoTimestamp(occurredAt) +
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

const DAY_MS = 86_400_000;
/** The largest time value a Date holds, either side of 1970. */
const MAX_TIME = 8.64e15;
const TWO_DIGITS = Array.from({ length: 60 }, (_, value) => String(value).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, value) => String(value).padStart(3, '0'));
let cachedDay = Number.NaN;
let cachedDayPrefix = '';

/**
 * `new Date(time).toISOString()` for a valid time value, character for character. The native call
 * costs more than hashing the whole event (about 2 µs), and a chain's events come in time order:
 * the date part (`YYYY-MM-DDT`, or an extended year) is taken from `toISOString` once per day and
 * the time of day is written from its digits.
 */
function isoTimestamp(time: number): string {
  const day = Math.floor(time / DAY_MS);
  if (day !== cachedDay) {
    const midnight = new Date(day * DAY_MS).toISOString();
    cachedDayPrefix = midnight.slice(0, midnight.length - 'HH:mm:ss.sssZ'.length);
    cachedDay = day;
  }
  let rest = time - day * DAY_MS;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  rest -= seconds * 1000;
  return (
    cachedDayPrefix +
    (TWO_DIGITS[hours] as string) +
    ':' +
    (TWO_DIGITS[minutes] as string) +
    ':' +
    (TWO_DIGITS[seconds] as string) +
    '.' +
    (THREE_DIGITS[rest] as string) +
    'Z'
  );
}

/**
 * {@link auditEventHash} of an event whose details are the JSON text they were stored as. When the
 * stored text is the canonical text the gate hashed (what {@link hashAuditEvent} gives the store),
 * it is hashed as it is; otherwise (details stored before the gate kept the canonical text, or
 * re-serialised since) it is parsed and canonicalised, as for a parsed event. Either way an event
 * verifies exactly when the canonical form of its content hashes to its stored hash.
 *
 * Text hashed as stored need not be parsed to be trusted: the fields before the details (strings
 * and null) read unambiguously from the front and those after them (strings, null, an integer)
 * from the back, so where the details begin and end in the hashed text is fixed, and stored text
 * that hashes to the stored hash is the text that was hashed.
 */
function storedEventHash(previousHash: string, event: StoredAuditChainEvent): string {
  const asStored = sha256Hex(canonicalEventText(previousHash, event, event.detailsJson));
  if (asStored === event.hash) return asStored;
  return sha256Hex(canonicalEventText(previousHash, event, canonicalize(JSON.parse(event.detailsJson))));
}

/**
 * Checks a run of audit events given in `seq` order: consecutive sequence numbers, each event
 * linked to the hash of the one before (the first to `startPreviousHash`, by default the genesis),
 * and each event's content matching its hash. Reports the first break.
 */
export function verifyChain(
  events: readonly VerifiableAuditEvent[],
  startPreviousHash: string = GENESIS_HASH,
): ChainVerification {
  let expectedPreviousHash = startPreviousHash;
  let previousSeq = Number.NaN;

  for (let index = 0; index < events.length; index++) {
    const event = events[index] as VerifiableAuditEvent;
    if (index > 0 && event.seq !== previousSeq + 1) {
      const reason = event.seq > previousSeq ? 'missing_predecessor' : 'out_of_order';
      return broken(index, event, reason);
    }
    if ((event.previousHash ?? GENESIS_HASH) !== expectedPreviousHash) {
      return broken(index, event, 'previous_hash_mismatch');
    }
    let hash: string;
    try {
      hash = 'detailsJson' in event ? storedEventHash(expectedPreviousHash, event) : auditEventHash(expectedPreviousHash, event);
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

function broken(checked: number, event: VerifiableAuditEvent, reason: ChainBreakReason): ChainVerification {
  return { ok: false, checked, brokenAt: { seq: event.seq, id: event.id, reason } };
}
