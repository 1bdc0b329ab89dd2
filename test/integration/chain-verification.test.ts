import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH, auditTextHash, canonicalAuditEvent, hashAuditEvent, verifyChain, type AuditEventContent } from '../../src/domain/audit-chain.js';
import { canonicalize } from '../../src/domain/canonical-json.js';
import { chainEvent, CHAIN_COLUMNS, CHAIN_TEXT_SELECT } from '../../src/db/chain-rows.js';
import { verifyChainInWorkers } from '../../src/db/chain-verification.js';
import { openDatabase } from '../../src/db/orm.js';

const TENANT = 'acme';
const EVENTS = 60;
/** Small ranges read in smaller batches, so that breaks fall inside both and on their boundaries. */
const RANGE = { rangeSize: 7, batchSize: 3 };

let workDir: string;
let path: string;

/**
 * A database with the committed schema and one tenant's chain of EVENTS real events (plus another
 * tenant's). Even events' details are stored as the canonical text that was hashed, as the gate
 * stores them; odd events' as JSON.stringify wrote them (another member order), as rows written
 * before the gate kept the canonical text. Events name one of five approvals.
 */
async function seededDatabase(vary: (seq: number) => Partial<AuditEventContent> = () => ({})): Promise<void> {
  const orm = await openDatabase({ driver: 'better-sqlite', path });
  await orm.close(true);
  const db = new Database(path);
  const insert = db.prepare(
    `insert into audit_event (${CHAIN_COLUMNS.join(', ')}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const tenant of [TENANT, 'other']) {
      let previousHash = GENESIS_HASH;
      for (let seq = 1; seq <= EVENTS; seq++) {
        const content = {
          id: `${tenant}-evt-${seq}`,
          tenant,
          seq,
          type: 'decided',
          approvalId: `apr-${seq % 5}`,
          actor: `user-${seq % 5}`,
          previousStatus: 'PENDING',
          newStatus: seq % 3 === 0 ? 'APPROVED' : 'PENDING',
          details: { decision: 'APPROVE', approvals: seq, note: `vote ${seq}` },
          occurredAt: new Date(Date.UTC(2026, 0, 1) + seq * 1000),
          ...vary(seq),
        };
        const { hash, detailsJson } = hashAuditEvent(previousHash, content);
        const stored = seq % 2 === 0 ? detailsJson : JSON.stringify(content.details);
        insert.run(content.id, tenant, seq, content.type, content.approvalId, content.actor, content.previousStatus, content.newStatus, stored, content.occurredAt.getTime(), previousHash, hash);
        previousHash = hash;
      }
    }
  })();
  db.close();
}

/** The sequential walk over the same rows: what the workers' outcome must equal. */
function sequentialVerification(): ReturnType<typeof verifyChain> {
  const db = new Database(path, { readonly: true });
  const rows = db.prepare(`select ${CHAIN_COLUMNS.join(', ')} from audit_event where tenant = ? order by seq`).raw(true).all(TENANT) as unknown[][];
  db.close();
  const events = rows.map(chainEvent);
  if (events[0] && events[0].seq !== 1) return { ok: false, checked: 0, brokenAt: { seq: events[0].seq, id: events[0].id, reason: 'missing_predecessor' } };
  return verifyChain(events);
}

function tamper(sql: string, ...values: unknown[]): void {
  const db = new Database(path);
  db.prepare(sql).run(...values);
  db.close();
}

describe('chain verification on worker threads', () => {
  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'countersign-chain-'));
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  const cases: [string, () => void][] = [
    ['an intact chain', () => {}],
    ['an edited event inside a range', () => tamper("update audit_event set actor = 'mallory' where tenant = ? and seq = 10", TENANT)],
    ['an edited event that starts a range', () => tamper("update audit_event set details = '{\"decision\":\"REJECT\"}' where tenant = ? and seq = 15", TENANT)],
    ['a deleted event at a range boundary', () => tamper('delete from audit_event where tenant = ? and seq = 22', TENANT)],
    ['a deleted first event', () => tamper('delete from audit_event where tenant = ? and seq = 1', TENANT)],
    ['a re-linked event at a range boundary', () => tamper("update audit_event set previous_hash = ? where tenant = ? and seq = 29", 'f'.repeat(64), TENANT)],
    ['a rewritten hash that breaks the next link', () => tamper("update audit_event set hash = ? where tenant = ? and seq = 35", 'e'.repeat(64), TENANT)],
    ['a deleted range of events', () => tamper('delete from audit_event where tenant = ? and seq > 40 and seq <= 50', TENANT)],
    ['a deleted event that starts a batch inside a range', () => tamper('delete from audit_event where tenant = ? and seq = 11', TENANT)],
    ['edited details stored as their canonical text', () => tamper("update audit_event set details = replace(details, 'vote 8', 'vote 9') where tenant = ? and seq = 8", TENANT)],
    ['details that are no longer JSON', () => tamper("update audit_event set details = '{\"decision\":' where tenant = ? and seq = 44", TENANT)],
    ['a rewritten hash that ends a range', () => tamper('update audit_event set hash = ? where tenant = ? and seq = 14', 'e'.repeat(64), TENANT)],
    ['an edited event that ends a batch inside a range', () => tamper("update audit_event set type = 'approved' where tenant = ? and seq = 18", TENANT)],
    // SQLite's `strftime` would read the number at the front of such a string; the time is not one.
    ['a time turned into text with the same number in front', () => tamper("update audit_event set occurred_at = occurred_at || 'x' where tenant = ? and seq = 16", TENANT)],
    // `json_quote` refuses a blob: the batch is checked from its columns, and the blob refused there.
    ['an actor stored as a blob of the same bytes', () => tamper('update audit_event set actor = cast(actor as blob) where tenant = ? and seq = 26', TENANT)],
    ['details stored as a blob of the same bytes', () => tamper('update audit_event set details = cast(details as blob) where tenant = ? and seq = 27', TENANT)],
  ];

  for (const [name, change] of cases) {
    it(`reports what the sequential walk reports for ${name}`, async () => {
      path = join(workDir, `${name.replace(/\W+/g, '-')}.sqlite`);
      await seededDatabase();
      change();
      const expected = sequentialVerification();
      const inWorkers = await verifyChainInWorkers(path, TENANT, EVENTS, RANGE);
      expect(inWorkers).toEqual(expected);
      if (name === 'an intact chain') expect(inWorkers).toEqual({ ok: true, checked: EVENTS });
      else expect(inWorkers.ok).toBe(false);
    });
  }

  it('verifies details re-serialised with the same meaning, in another member order or with spaces', async () => {
    path = join(workDir, 're-serialised.sqlite');
    await seededDatabase();
    tamper(`update audit_event set details = '{"note": "vote 12", "decision": "APPROVE", "approvals": 12}' where tenant = ? and seq = 12`, TENANT);
    tamper(`update audit_event set details = '{ "approvals" : 13, "decision" : "APPROVE", "note" : "vote 13" }' where tenant = ? and seq = 13`, TENANT);
    expect(sequentialVerification()).toEqual({ ok: true, checked: EVENTS });
    expect(await verifyChainInWorkers(path, TENANT, EVENTS, RANGE)).toEqual({ ok: true, checked: EVENTS });
  });

  it('has SQLite write, for each event stored as the gate stores it, the very text its hash covers', async () => {
    path = join(workDir, 'texts.sqlite');
    await seededDatabase();
    const db = new Database(path, { readonly: true });
    const texts = db.prepare(`select ${CHAIN_TEXT_SELECT} from audit_event where tenant = @tenant order by seq`).raw(true).all({ tenant: TENANT, tenantJson: canonicalize(TENANT) }) as unknown[][];
    const events = db.prepare(`select ${CHAIN_COLUMNS.join(', ')} from audit_event where tenant = ? order by seq`).raw(true).all(TENANT) as unknown[][];
    db.close();
    expect(texts).toHaveLength(EVENTS);
    texts.forEach(([seq, previousHash, hash, , , head, occurredAt, tail], index) => {
      const event = chainEvent(events[index] as unknown[]);
      const canonical = canonicalAuditEvent(previousHash as string, { ...event, details: JSON.parse(event.detailsJson) });
      // Even events' details are the canonical text; odd ones' are not, and must not match.
      expect(`${head as string}${(event.occurredAt as Date).toISOString()}${tail as string}` === canonical).toBe((seq as number) % 2 === 0);
      expect(auditTextHash(head as string, occurredAt, tail as string) === hash).toBe((seq as number) % 2 === 0);
    });
  });

  it('verifies events whose text SQLite writes otherwise than the canonical form, from their columns', async () => {
    path = join(workDir, 'awkward.sqlite');
    await seededDatabase((seq) => ({
      actor: ['quote " and \\ backslash', 'tab\tnew line\n', 'control \u0001 and \u007f', 'é, 😀 and \u2028', 'plain'][seq % 5] as string,
      type: seq % 7 === 0 ? 'line\u2029break' : 'decided',
      approvalId: seq % 4 === 0 ? null : `apr-${seq % 5}`,
      previousStatus: seq % 6 === 0 ? null : 'PENDING',
      details: { note: `vote ${seq} "quoted"`, nested: { z: [1, 2.5, -0, 1e21], a: 'é' } },
      // Before 1970, after 9999 and at the ends of Date's range.
      occurredAt: new Date([-8.64e15, -1, 0, 253_402_300_800_000 + seq, 8.64e15, Date.UTC(2026, 0, 1) + seq][seq % 6] as number),
    }));
    expect(sequentialVerification()).toEqual({ ok: true, checked: EVENTS });
    expect(await verifyChainInWorkers(path, TENANT, EVENTS, RANGE)).toEqual({ ok: true, checked: EVENTS });
  });

  it("tells the status each approval's trail ends in, in chain order", async () => {
    path = join(workDir, 'trail.sqlite');
    await seededDatabase();
    const told = new Map<string, string>();
    await verifyChainInWorkers(path, TENANT, EVENTS, { ...RANGE, onTrailStatus: (approvalId, status) => told.set(approvalId, status) });
    // The seed's approval apr-k is named by the events seq ≡ k (mod 5); its last event (seq 56-60) gives its status.
    const expected = new Map(Array.from({ length: 5 }, (_, k) => [`apr-${(EVENTS - k) % 5}`, (EVENTS - k) % 3 === 0 ? 'APPROVED' : 'PENDING']));
    expect(told).toEqual(expected);
  });
});
