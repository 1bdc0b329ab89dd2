/**
 * Benchmark 4: reads once the database has grown. A temporary SQLite file is given its schema by
 * the committed migrations, then seeded directly with better-sqlite3 in one transaction with
 * 100,000 approvals and 1,000,000 audit events whose chain hashes are real (hashAuditEvent), so
 * verifyAuditChain has its full work to do. The server then opens that file and is asked, over
 * HTTP, for the pending list, single approvals' audit trails and a whole-chain verification.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { GENESIS_HASH, hashAuditEvent } from '../../src/domain/audit-chain.js';
import { openDatabase } from '../../src/db/orm.js';
import { chainFloor, type ChainFloor } from './chain-floor.js';
import { GraphQLClient, measured, progress, warmUpPaths, type BenchSettings } from './load.js';
import { startServerProcess, type ServerProcess } from './server.js';
import { figuresOf, median, medianFigures, type RepeatedFigures, type RunFigures } from './stats.js';

const TENANT = 'acme';
const EVENTS_PER_APPROVAL = 10;
/** Approvals whose events are interleaved in the chain, as concurrent requests' events are. */
const INTERLEAVE = 100;
const POLICY_REVISION = 'sha256:0000000000000000';
const DAY_MS = 86_400_000;

export const PENDING_LIST_QUERY = `query Pending {
  approvals(status: PENDING, first: 50) {
    __typename
    ... on ApprovalConnection {
      nodes { id status action resource riskLevel requiredApprovals remainingApprovals createdAt expiresAt decisions { approver decision } }
      pageInfo { hasNextPage endCursor }
    }
    ... on Error { code message }
  }
}`;
const TRAIL_QUERY = `query Trail($id: ID!) {
  auditEvents(approvalId: $id, first: 50) {
    __typename
    ... on AuditEventConnection { nodes { seq type actor previousStatus newStatus details occurredAt hash } }
    ... on Error { code message }
  }
}`;
const VERIFY_QUERY = `query Verify {
  verifyAuditChain { __typename ... on AuditChainVerification { ok checked brokenAt { seq reason } } ... on Error { code message } }
}`;

export interface GrowthResults {
  approvals: number;
  auditEvents: number;
  pendingApprovals: number;
  seedSeconds: number;
  databaseBytes: number;
  /** First page (50) of pending approvals, newest first, with their votes; one client. */
  pendingList: RepeatedFigures;
  /** One random approval's audit trail; one client. */
  auditTrail: RepeatedFigures;
  /** `{ __typename }` on the same server: the floor under both reads. */
  trivial: RepeatedFigures;
  verify: { seconds: number[]; medianSeconds: number; eventsPerSecond: number; checked: number; firstSeconds: number };
  /** What verification cannot do without, measured alone (see {@link chainFloor}). */
  verifyFloor: ChainFloor;
}

type Status = 'PENDING' | 'EXECUTED' | 'REJECTED' | 'DENIED' | 'APPROVED';

/** Every tenth approval is pending; the others are spread over the terminal states. */
function statusOf(index: number): Status {
  switch (index % 10) {
    case 0:
      return 'PENDING';
    case 1:
    case 2:
      return 'REJECTED';
    case 3:
      return 'DENIED';
    case 4:
      return 'APPROVED';
    default:
      return 'EXECUTED';
  }
}

interface SeedEvent {
  type: string;
  actor: string;
  previousStatus: string | null;
  newStatus: string | null;
  details: Record<string, unknown>;
}

/** The approval's trail, as the gate writes it, padded with refused attempts to ten events. */
function trailOf(status: Status, contextHash: string, jti: string): SeedEvent[] {
  const events: SeedEvent[] = [
    {
      type: 'requested',
      actor: 'invoice-bot',
      previousStatus: null,
      newStatus: status === 'DENIED' ? 'DENIED' : 'PENDING',
      details: {
        outcome: status === 'DENIED' ? 'deny' : 'require_approval',
        riskScore: 4,
        riskLevel: 'medium',
        ruleIds: [status === 'DENIED' ? 'CS-110' : 'CS-220'],
        requiredApprovals: 2,
        approverRoles: ['approver'],
        policyRevision: POLICY_REVISION,
        failSafe: false,
        contextHash,
      },
    },
  ];
  if (status === 'DENIED') {
    events.push({ type: 'denied', actor: 'system:countersign', previousStatus: null, newStatus: 'DENIED', details: { reasons: [{ ruleId: 'CS-110', message: 'denylisted' }] } });
  } else if (status === 'REJECTED') {
    events.push(
      { type: 'decided', actor: 'alice', previousStatus: 'PENDING', newStatus: 'REJECTED', details: { decision: 'REJECT', comment: 'not this month', approvals: 0, remaining: 2 } },
      { type: 'rejected', actor: 'alice', previousStatus: 'PENDING', newStatus: 'REJECTED', details: { comment: 'not this month' } },
    );
  } else if (status === 'PENDING') {
    events.push({ type: 'decided', actor: 'alice', previousStatus: 'PENDING', newStatus: 'PENDING', details: { decision: 'APPROVE', comment: null, approvals: 1, remaining: 1 } });
  } else {
    events.push(
      { type: 'decided', actor: 'alice', previousStatus: 'PENDING', newStatus: 'PENDING', details: { decision: 'APPROVE', comment: null, approvals: 1, remaining: 1 } },
      { type: 'decided', actor: 'bob', previousStatus: 'PENDING', newStatus: 'APPROVED', details: { decision: 'APPROVE', comment: 'ok', approvals: 2, remaining: 0 } },
      { type: 'approved', actor: 'bob', previousStatus: 'PENDING', newStatus: 'APPROVED', details: { approvers: ['alice', 'bob'] } },
      { type: 'token_issued', actor: 'system:countersign', previousStatus: 'APPROVED', newStatus: 'APPROVED', details: { jti, expiresAt: '2026-01-01T00:05:00.000Z' } },
    );
    if (status === 'EXECUTED') {
      events.push({ type: 'executed', actor: 'invoice-bot', previousStatus: 'APPROVED', newStatus: 'EXECUTED', details: { executionId: randomUUID(), jti } });
    }
  }
  while (events.length < EVENTS_PER_APPROVAL) {
    events.push({
      type: 'replay_refused',
      actor: 'invoice-bot',
      previousStatus: null,
      newStatus: null,
      details: { code: 'TOKEN_REPLAYED', message: `Decision token ${jti} was already used.`, jti },
    });
  }
  return events;
}

/** Gives the file its schema through the committed migrations, then seeds it in one transaction. */
async function seed(path: string, approvals: number): Promise<{ pending: number; ids: string[] }> {
  const orm = await openDatabase({ path, driver: 'better-sqlite' });
  await orm.close(true);

  const db = new Database(path);
  // One writer, nothing to recover if it fails: no journal while seeding, WAL again afterwards.
  db.pragma('journal_mode = delete');
  db.pragma('synchronous = off');
  const insertApproval = db.prepare(
    'insert into approval (id, created_at, updated_at, tenant, action, resource, context, context_hash, agent, session_id, requester_subject, ' +
      'confidence, estimated_duration_minutes, priority, source, idempotency_key, status, risk_score, risk_level, reasons, required_approvals, ' +
      'approver_roles, escalated, expires_at, token_ttl_seconds, policy_revision, decided_at, token_jti, token_expires_at, version) ' +
      "values (?, ?, ?, ?, 'payment', ?, ?, ?, 'invoice-bot', null, 'invoice-bot', 0.9, 5, null, 'internal', null, ?, 4, 'medium', ?, 2, " +
      "'[\"approver\"]', 0, ?, 300, ?, ?, ?, ?, 1)",
  );
  const insertVote = db.prepare(
    'insert into vote (id, created_at, updated_at, approval_id, approver, decision, comment) values (?, ?, ?, ?, ?, ?, null)',
  );
  const insertEvent = db.prepare(
    'insert into audit_event (id, tenant, seq, type, approval_id, actor, previous_status, new_status, details, occurred_at, previous_hash, hash) ' +
      'values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const reasons = JSON.stringify([{ ruleId: 'CS-220', message: 'payment of 1500 is at or above the limit of 500' }]);
  const now = Date.now();
  const firstCreated = now - 30 * DAY_MS;
  const spacing = (30 * DAY_MS) / approvals;
  const ids: string[] = [];
  let pending = 0;

  db.transaction(() => {
    let seq = 0;
    let previousHash = GENESIS_HASH;
    for (let blockStart = 0; blockStart < approvals; blockStart += INTERLEAVE) {
      const block: { id: string; createdAt: number; trail: SeedEvent[] }[] = [];
      for (let index = blockStart; index < Math.min(approvals, blockStart + INTERLEAVE); index++) {
        const id = randomUUID();
        const status = statusOf(index);
        const createdAt = Math.round(firstCreated + index * spacing);
        const jti = randomUUID();
        const contextHash = randomUUID().replaceAll('-', '').padEnd(64, '0');
        const decided = status !== 'PENDING';
        const tokenIssued = status === 'APPROVED' || status === 'EXECUTED';
        insertApproval.run(
          id,
          createdAt,
          createdAt,
          TENANT,
          `invoice/INV-${index}`,
          JSON.stringify({ amount: 1500, currency: 'USD', invoice: `INV-${index}` }),
          contextHash,
          status,
          reasons,
          // Pending requests must still be pending when listed: they expire long after the run.
          status === 'PENDING' ? now + 7 * DAY_MS : createdAt + 3_600_000,
          POLICY_REVISION,
          decided ? createdAt + 60_000 : null,
          tokenIssued ? jti : null,
          tokenIssued ? createdAt + 360_000 : null,
        );
        if (status !== 'DENIED') insertVote.run(randomUUID(), createdAt + 30_000, createdAt + 30_000, id, 'alice', status === 'REJECTED' ? 'REJECT' : 'APPROVE');
        if (tokenIssued) insertVote.run(randomUUID(), createdAt + 60_000, createdAt + 60_000, id, 'bob', 'APPROVE');
        if (status === 'PENDING') pending++;
        ids.push(id);
        block.push({ id, createdAt, trail: trailOf(status, contextHash, jti) });
      }
      // Round-robin over the block: an approval's trail is spread over about a thousand events.
      for (let step = 0; step < EVENTS_PER_APPROVAL; step++) {
        for (const { id, createdAt, trail } of block) {
          const event = trail[step] as SeedEvent;
          seq += 1;
          const eventId = randomUUID();
          const occurredAt = new Date(createdAt + step * 1_000);
          // The details are stored as the canonical text that was hashed, as the gate stores them.
          const { hash, detailsJson } = hashAuditEvent(previousHash, { id: eventId, tenant: TENANT, seq, approvalId: id, occurredAt, ...event });
          insertEvent.run(
            eventId,
            TENANT,
            seq,
            event.type,
            id,
            event.actor,
            event.previousStatus,
            event.newStatus,
            detailsJson,
            occurredAt.getTime(),
            previousHash,
            hash,
          );
          previousHash = hash;
        }
      }
    }
  })();
  db.pragma('journal_mode = wal');
  db.close();
  return { pending, ids };
}

export async function runGrowthBenchmark(settings: BenchSettings): Promise<GrowthResults> {
  const approvals = settings.quick ? 2_000 : 100_000;
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-growth-'));
  const path = join(workDir, 'countersign.sqlite');
  let server: ServerProcess | undefined;
  const clients: GraphQLClient[] = [];
  try {
    progress(`growth: seeding ${approvals} approvals and ${approvals * EVENTS_PER_APPROVAL} audit events`);
    const seedStarted = performance.now();
    const { pending, ids } = await seed(path, approvals);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const databaseBytes = statSync(path).size;

    server = await startServerProcess({ databasePath: path, driver: 'better-sqlite' });
    const approver = new GraphQLClient(server.url, 1, await server.authorization('carol', TENANT, ['approver']));
    const auditor = new GraphQLClient(server.url, 1, await server.authorization('dave', TENANT, ['auditor']));
    clients.push(approver, auditor);

    const first = await approver.request<{ approvals: { __typename: string; nodes?: { status: string }[] } }>(PENDING_LIST_QUERY);
    if (first.approvals.nodes?.length !== Math.min(50, pending) || first.approvals.nodes.some((node) => node.status !== 'PENDING')) {
      throw new Error(`unexpected pending list: ${JSON.stringify(first).slice(0, 500)}`);
    }
    let pick = 0;
    const trail = async (): Promise<void> => {
      // A fixed stride through the seeded ids: every read is of a different approval.
      pick = (pick + 7_919) % ids.length;
      const data = await auditor.request<{ auditEvents: { nodes?: unknown[] } }>(TRAIL_QUERY, { id: ids[pick] });
      if (data.auditEvents.nodes?.length !== EVENTS_PER_APPROVAL) throw new Error(`unexpected trail: ${JSON.stringify(data).slice(0, 500)}`);
    };

    const reads = {
      trivial: async (): Promise<void> => void (await approver.request('{ __typename }')),
      pendingList: async (): Promise<void> => void (await approver.request(PENDING_LIST_QUERY)),
      auditTrail: trail,
    };
    progress('growth reads: warming up');
    await warmUpPaths(settings, 1, Object.values(reads));
    const runs = { pendingList: [] as RunFigures[], auditTrail: [] as RunFigures[], trivial: [] as RunFigures[] };
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      progress(`growth reads: repeat ${repeat + 1}/${settings.repeats}`);
      for (const name of ['trivial', 'pendingList', 'auditTrail'] as const) runs[name].push(figuresOf(await measured(settings, 1, reads[name])));
    }

    const checked = approvals * EVENTS_PER_APPROVAL;
    const verification = async (): Promise<number> => {
      const started = performance.now();
      const data = await auditor.request<{ verifyAuditChain: { ok?: boolean; checked?: number } }>(VERIFY_QUERY);
      const seconds = (performance.now() - started) / 1000;
      if (data.verifyAuditChain.ok !== true || data.verifyAuditChain.checked !== checked) {
        throw new Error(`the seeded chain did not verify: ${JSON.stringify(data)}`);
      }
      return seconds;
    };
    // The first verifications start the worker pool and leave its threads compiling (in a trial
    // they took 3.4, 3.2 and 3.0 s before settling at 2.6): the first is reported on its own, and
    // verification runs unmeasured for the JIT warm-up, as every other benchmark's path does.
    progress('growth verifyAuditChain: warming up');
    const warmUpStarted = performance.now();
    const firstSeconds = await verification();
    while (performance.now() - warmUpStarted < settings.jitWarmupMs) await verification();
    const verifySeconds: number[] = [];
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      progress(`growth verifyAuditChain: repeat ${repeat + 1}/${settings.repeats}`);
      verifySeconds.push(await verification());
    }
    const medianSeconds = median(verifySeconds);
    progress('growth verifyAuditChain: its floor, read and hashed alone');
    const verifyFloor = chainFloor(path, TENANT, approvals * EVENTS_PER_APPROVAL);
    return {
      approvals,
      auditEvents: approvals * EVENTS_PER_APPROVAL,
      pendingApprovals: pending,
      seedSeconds,
      databaseBytes,
      pendingList: medianFigures(runs.pendingList),
      auditTrail: medianFigures(runs.auditTrail),
      trivial: medianFigures(runs.trivial),
      verify: { seconds: verifySeconds, medianSeconds, eventsPerSecond: checked / medianSeconds, checked, firstSeconds },
      verifyFloor,
    };
  } finally {
    for (const client of clients) client.close();
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
