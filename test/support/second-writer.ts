/**
 * A second process writing the database of a running server, as a second Countersign instance
 * would: it opens the file with its own connection and gate, requests `count` approvals for
 * `tenant` as fast as it can, and prints how many succeeded and the failures it met.
 *
 *   node --import tsx test/support/second-writer.ts DB_FILE TENANT COUNT
 */
import { join } from 'node:path';
import { openDatabase } from '../../src/db/orm.js';
import { Gate } from '../../src/app/gate.js';
import { developmentKeyEncryptionKey } from '../../src/config.js';
import { PolicyEvaluator } from '../../src/policy/index.js';

const [databasePath, tenant, count] = process.argv.slice(2) as [string, string, string];
const root = join(import.meta.dirname, '..', '..');
const evaluator = await PolicyEvaluator.load({ bundleDir: join(root, 'bundle'), sourcesDir: join(root, 'policies') });
const orm = await openDatabase({ path: databasePath, driver: 'better-sqlite' });
const gate = await Gate.open({ orm, evaluator, publisher: { publish: () => {} }, issuer: 'urn:countersign:local', tokenAudience: 'urn:countersign:execute', keyEncryptionKey: developmentKeyEncryptionKey(databasePath) });
const caller = { subject: `agent-${tenant}`, tenant, roles: ['agent'] };
const outcomes = await Promise.allSettled(
  Array.from({ length: Number(count) }, (_, index) =>
    gate.requestApproval(caller, { action: 'payment', resource: `invoice/second-${index}`, context: { amount: 1500, currency: 'USD' } }),
  ),
);
await gate.whenIdle();
await orm.close(true);
evaluator.close();
const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String((outcome as PromiseRejectedResult).reason));
console.log(JSON.stringify({ succeeded: outcomes.length - failures.length, failures }));
