/**
 * What an allowed request cannot do without, each part measured alone in this process on this
 * machine: the policy's evaluation, the token's Ed25519 signature, and SQLite storing the approval
 * and its two chained audit rows (one transaction per 16 requests, as the committer batches them
 * at 16 clients, without the fsync, which runs off the event loop). With the server's CPU for
 * `{ __typename }` beside them, they bound the allowed request's throughput over the trivial
 * query's on this machine: on one event loop the ratio is at most floor / (floor + these parts).
 */
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Gate } from '../../src/app/gate.js';
import { developmentKeyEncryptionKey } from '../../src/config.js';
import { openDatabase } from '../../src/db/orm.js';
import { PolicyEvaluator } from '../../src/policy/index.js';
import { policyInput } from './policy.js';
import { REPO_ROOT } from './server.js';

export interface AllowedFloor {
  /** CPU per call, µs. */
  evaluateUs: number;
  signUs: number;
  /** One approval row and two audit rows, in transactions of 16 requests. */
  storeUs: number;
}

const BATCH = 16;

/** CPU time per call of `operation`, µs: the lowest of five runs, after a warm-up. */
function cpuPerCall(operation: () => void, calls: number): number {
  for (let index = 0; index < calls / 5; index++) operation();
  let lowest = Infinity;
  for (let run = 0; run < 5; run++) {
    const started = process.cpuUsage();
    for (let index = 0; index < calls; index++) operation();
    const used = process.cpuUsage(started);
    lowest = Math.min(lowest, (used.user + used.system) / calls);
  }
  return lowest;
}

export async function measureAllowedFloor(): Promise<AllowedFloor> {
  const workDir = mkdtempSync(join(tmpdir(), 'countersign-bench-floor-'));
  const evaluator = await PolicyEvaluator.load({ bundleDir: join(REPO_ROOT, 'bundle'), sourcesDir: join(REPO_ROOT, 'policies') });
  try {
    const input = policyInput(0);
    if (evaluator.evaluate(input).outcome !== 'allow') throw new Error('the floor input is not allowed by the policy');
    const evaluateUs = cpuPerCall(() => void evaluator.evaluate(input), 5_000);

    const { privateKey } = generateKeyPairSync('ed25519');
    // A decision token's signing input is about this long (header, claims, context hash).
    const signingInput = Buffer.from('x'.repeat(480));
    const signUs = cpuPerCall(() => void sign(null, signingInput, privateKey), 5_000);

    // Rows as the gate writes them: one allowed request through the gate, then copies of its rows.
    const path = join(workDir, 'floor.sqlite');
    const orm = await openDatabase({ path, driver: 'better-sqlite' });
    const gate = await Gate.open({ orm, evaluator, publisher: { publish: () => {} }, issuer: 'urn:countersign:local', tokenAudience: 'urn:countersign:execute', keyEncryptionKey: developmentKeyEncryptionKey(path) });
    await gate.requestApproval({ subject: 'invoice-bot', tenant: 'acme', roles: ['agent'] }, { action: 'payment', context: { amount: 499, currency: 'USD' }, confidence: 0.9 });
    await gate.whenIdle();
    await orm.close(true);
    const storeUs = storeCost(path);
    return { evaluateUs, signUs, storeUs };
  } finally {
    evaluator.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function storeCost(path: string): number {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = wal');
    db.pragma('synchronous = normal');
    const columnsOf = (table: string): string[] => (db.pragma(`table_info(${table})`) as { name: string }[]).map((column) => column.name);
    const approvalColumns = columnsOf('approval');
    const eventColumns = columnsOf('audit_event');
    const approvalRow = db.prepare(`select ${approvalColumns.join(', ')} from approval limit 1`).raw(true).get() as unknown[];
    const eventRow = db.prepare(`select ${eventColumns.join(', ')} from audit_event order by seq limit 1`).raw(true).get() as unknown[];
    const insert = (table: string, columns: string[]) => db.prepare(`insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`);
    const insertApproval = insert('approval', approvalColumns);
    const insertEvent = insert('audit_event', eventColumns);
    const at = (columns: string[], name: string): number => columns.indexOf(name);
    const [approvalId, tokenJti] = [at(approvalColumns, 'id'), at(approvalColumns, 'token_jti')];
    const eventId = at(eventColumns, 'id');
    const eventSeq = at(eventColumns, 'seq');
    const eventApproval = at(eventColumns, 'approval_id');
    const eventHash = at(eventColumns, 'hash');
    const eventPrevious = at(eventColumns, 'previous_hash');
    let seq = (db.prepare('select max(seq) as seq from audit_event').get() as { seq: number }).seq;
    const request = (): void => {
      const row = [...approvalRow];
      row[approvalId] = randomUUID();
      if (tokenJti >= 0) row[tokenJti] = randomUUID();
      insertApproval.run(...row);
      for (let index = 0; index < 2; index++) {
        const audit = [...eventRow];
        if (eventId >= 0 && typeof audit[eventId] === 'string') audit[eventId] = randomUUID();
        else if (eventId >= 0) audit[eventId] = null;
        audit[eventSeq] = ++seq;
        audit[eventApproval] = row[approvalId];
        if (eventHash >= 0) audit[eventHash] = randomBytes(32).toString('hex');
        if (eventPrevious >= 0) audit[eventPrevious] = randomBytes(32).toString('hex');
        insertEvent.run(...audit);
      }
    };
    const batch = db.transaction(() => {
      for (let index = 0; index < BATCH; index++) request();
    });
    return cpuPerCall(batch, 100) / BATCH;
  } finally {
    db.close();
  }
}
