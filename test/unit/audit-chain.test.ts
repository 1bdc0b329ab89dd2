import { describe, expect, it } from 'vitest';

import {
  GENESIS_HASH,
  auditEventHash,
  auditTextHash,
  canonicalAuditEvent,
  hashAuditEvent,
  verifyChain,
  type StoredAuditChainEvent,
  type AuditChainEvent,
  type AuditEventContent,
} from '../../src/domain/audit-chain.js';
import { canonicalize } from '../../src/domain/canonical-json.js';

function content(seq: number): AuditEventContent {
  return {
    id: `evt_${seq}`,
    tenant: 'acme',
    seq,
    type: seq === 1 ? 'approval.requested' : 'approval.decided',
    approvalId: 'apr_1',
    actor: seq === 1 ? 'agent:billing-bot' : `user:${seq}`,
    previousStatus: seq === 1 ? null : 'PENDING',
    newStatus: seq === 1 ? 'PENDING' : 'PENDING',
    details: { vote: 'APPROVE', note: `vote ${seq}`, weights: [1, 2.5] },
    occurredAt: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)),
  };
}

/** Builds a correctly linked chain of `length` events starting at seq 1. */
function buildChain(length: number): AuditChainEvent[] {
  const events: AuditChainEvent[] = [];
  let previousHash = GENESIS_HASH;
  for (let seq = 1; seq <= length; seq++) {
    const event = { ...content(seq), previousHash, hash: auditEventHash(previousHash, content(seq)) };
    events.push(event);
    previousHash = event.hash;
  }
  return events;
}

describe('auditEventHash', () => {
  it('hashes exactly the canonical JSON of every field and the previous hash', () => {
    const event = content(2);
    const previousHash = 'f'.repeat(64);
    expect(canonicalAuditEvent(previousHash, event)).toBe(
      canonicalize({ ...event, occurredAt: event.occurredAt.toISOString(), previousHash }),
    );
  });

  it('writes the time as toISOString writes it, across days, before 1970, after 9999 and at the ends of Date\'s range', () => {
    const times = [0, -1, 1, 86_399_999, 86_400_000, -86_400_001, -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15];
    for (let step = 0; step < 2_000; step++) times.push(Date.UTC(2026, 0, 1) + step * 7_919_993, -step * 123_456_789_011);
    for (const time of times) {
      const event = { ...content(2), occurredAt: new Date(time) };
      expect(canonicalAuditEvent(null, event)).toBe(canonicalize({ ...event, occurredAt: event.occurredAt.toISOString(), previousHash: GENESIS_HASH }));
    }
  });

  it('hashes a canonical text given around its time as the whole text', () => {
    const event = content(3);
    const text = canonicalAuditEvent('a'.repeat(64), event);
    const time = `"occurredAt":"${event.occurredAt.toISOString()}"`;
    const [head, tail] = [text.slice(0, text.indexOf(time) + 14), text.slice(text.indexOf(time) + time.length - 1)];
    expect(auditTextHash(head, event.occurredAt.getTime(), tail)).toBe(auditEventHash('a'.repeat(64), event));
    // No canonical text holds a time that is not whole milliseconds within Date's range.
    for (const occurredAt of [1.5, 8.64e15 + 1, Number.NaN, '1767225600000', null]) expect(auditTextHash(head, occurredAt, tail)).toBeNull();
  });

  it('treats a null previous hash as the genesis hash', () => {
    expect(auditEventHash(null, content(1))).toBe(auditEventHash(GENESIS_HASH, content(1)));
  });

  it('gives a store the canonical text of the details it hashed', () => {
    const event = { ...content(2), details: { z: 1, a: { y: [true, null], b: 'é' } } };
    expect(hashAuditEvent('f'.repeat(64), event)).toEqual({ hash: auditEventHash('f'.repeat(64), event), detailsJson: '{"a":{"b":"é","y":[true,null]},"z":1}' });
  });

  it('changes when the predecessor changes', () => {
    expect(auditEventHash('a'.repeat(64), content(2))).not.toBe(auditEventHash('b'.repeat(64), content(2)));
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain', () => {
    expect(verifyChain(buildChain(50))).toEqual({ ok: true, checked: 50 });
  });

  it('accepts an empty chain', () => {
    expect(verifyChain([])).toEqual({ ok: true, checked: 0 });
  });

  it('verifies a window of a chain from the hash that precedes it', () => {
    const chain = buildChain(10);
    expect(verifyChain(chain.slice(5), chain[4]?.hash)).toEqual({ ok: true, checked: 5 });
    expect(verifyChain(chain.slice(5))).toMatchObject({ ok: false, brokenAt: { seq: 6, reason: 'previous_hash_mismatch' } });
  });

  it('detects a row whose content was altered', () => {
    const chain = buildChain(10);
    chain[6] = { ...chain[6]!, details: { vote: 'REJECT' } };
    expect(verifyChain(chain)).toEqual({ ok: false, checked: 6, brokenAt: { seq: 7, id: 'evt_7', reason: 'hash_mismatch' } });
  });

  it('detects a row that was altered and re-hashed, at the row after it', () => {
    const chain = buildChain(10);
    const forged = { ...content(7), actor: 'user:mallory' };
    chain[6] = { ...forged, previousHash: chain[5]!.hash, hash: auditEventHash(chain[5]!.hash, forged) };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 7, brokenAt: { seq: 8, reason: 'previous_hash_mismatch' } });
  });

  it('detects a removed row by the gap in sequence numbers', () => {
    const chain = buildChain(10);
    chain.splice(3, 1);
    expect(verifyChain(chain)).toEqual({ ok: false, checked: 3, brokenAt: { seq: 5, id: 'evt_5', reason: 'missing_predecessor' } });
  });

  it('detects a removed row even when later rows are renumbered', () => {
    const chain = buildChain(10);
    chain.splice(3, 1);
    const renumbered = chain.map((event, index) => ({ ...event, seq: index + 1 }));
    expect(verifyChain(renumbered)).toMatchObject({ ok: false, checked: 3, brokenAt: { id: 'evt_5', reason: 'previous_hash_mismatch' } });
  });

  it('detects rows presented out of order', () => {
    const chain = buildChain(10);
    [chain[4], chain[5]] = [chain[5]!, chain[4]!];
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 4, brokenAt: { seq: 6, reason: 'missing_predecessor' } });
    const duplicated = buildChain(5);
    duplicated.splice(3, 0, duplicated[2]!);
    expect(verifyChain(duplicated)).toMatchObject({ ok: false, checked: 3, brokenAt: { seq: 3, reason: 'out_of_order' } });
  });

  it('detects rows swapped and renumbered to look consecutive', () => {
    const chain = buildChain(10);
    const [fifth, sixth] = [chain[4]!, chain[5]!];
    chain[4] = { ...sixth, seq: 5 };
    chain[5] = { ...fifth, seq: 6 };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 4, brokenAt: { seq: 5, id: 'evt_6' } });
  });

  it('reports a stored row that cannot be serialised as tampered', () => {
    const chain = buildChain(3);
    chain[1] = { ...chain[1]!, occurredAt: new Date(Number.NaN) };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 1, brokenAt: { seq: 2, reason: 'hash_mismatch' } });
  });
});

/** The chain as a store that keeps details as JSON text gives it back, each event's details as `text` makes them. */
function storedChain(length: number, text: (details: unknown, seq: number) => string): StoredAuditChainEvent[] {
  return buildChain(length).map(({ details, ...event }) => ({ ...event, detailsJson: text(details, event.seq) }));
}

describe('verifyChain over details stored as text', () => {
  it('accepts details stored as the canonical text, or as any JSON text of the same meaning', () => {
    expect(verifyChain(storedChain(20, (details) => canonicalize(details)))).toEqual({ ok: true, checked: 20 });
    expect(verifyChain(storedChain(20, (details) => JSON.stringify(details, null, 2)))).toEqual({ ok: true, checked: 20 });
    const reordered = (details: unknown): string => {
      const { vote, note, weights } = details as { vote: string; note: string; weights: number[] };
      return JSON.stringify({ weights, note, vote });
    };
    expect(verifyChain(storedChain(20, reordered))).toEqual({ ok: true, checked: 20 });
  });

  it('reports details whose meaning changed, or that are no longer JSON, as tampered', () => {
    const edited = storedChain(10, (details) => canonicalize(details));
    edited[3] = { ...edited[3]!, detailsJson: edited[3]!.detailsJson.replace('APPROVE', 'REJECT') };
    expect(verifyChain(edited)).toEqual({ ok: false, checked: 3, brokenAt: { seq: 4, id: 'evt_4', reason: 'hash_mismatch' } });
    const broken = storedChain(10, (details) => canonicalize(details));
    broken[6] = { ...broken[6]!, detailsJson: broken[6]!.detailsJson.slice(0, -1) };
    expect(verifyChain(broken)).toEqual({ ok: false, checked: 6, brokenAt: { seq: 7, id: 'evt_7', reason: 'hash_mismatch' } });
  });

  it('reports details text that takes in the fields after it as tampered', () => {
    // The details swallow the event's own id, and the id column is emptied: the same characters in
    // another split of fields.
    const chain = storedChain(5, (details) => canonicalize(details));
    const third = chain[2]!;
    chain[2] = { ...third, detailsJson: `${third.detailsJson.slice(0, -1)},"id":${JSON.stringify(third.id)}}`, id: '' };
    expect(verifyChain(chain)).toMatchObject({ ok: false, checked: 2, brokenAt: { seq: 3, reason: 'hash_mismatch' } });
  });
});
