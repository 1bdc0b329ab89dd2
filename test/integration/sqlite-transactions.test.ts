/**
 * Transactions on better-sqlite3 hold the one connection from BEGIN to COMMIT without knex's
 * transaction object: what knex's gave them (isolation from queries made outside, a refusal of
 * queries made through a transaction that has ended, a rollback when the work throws) must hold.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/orm.js';
import { inTransaction } from '../../src/db/transaction.js';

let dir: string;
let orm: MikroORM;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-transactions-'));
  orm = await openDatabase({ driver: 'better-sqlite', path: join(dir, 'countersign.sqlite') });
  await orm.em.getConnection().execute('create table probe (name text)', [], 'run');
});

afterEach(async () => {
  await orm.close(true);
  rmSync(dir, { recursive: true, force: true });
});

const insert = (em: EntityManager, name: string) => em.getConnection().execute('insert into probe (name) values (?)', [name], 'run', em.getTransactionContext());
const namesOutside = async (): Promise<string[]> =>
  ((await orm.em.fork().getConnection().execute('select name from probe order by rowid')) as { name: string }[]).map((row) => row.name);

describe('a transaction on better-sqlite3', () => {
  it('keeps its writes from a query made outside it until it commits', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inserted!: () => void;
    const didInsert = new Promise<void>((resolve) => (inserted = resolve));
    const transaction = inTransaction(orm, async (em) => {
      await insert(em, 'inside');
      inserted();
      await held;
    });
    await didInsert;
    let outside: string[] | undefined;
    const read = namesOutside().then((names) => (outside = names));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The read waits for the connection, which the open transaction holds.
    expect(outside).toBeUndefined();
    release();
    await transaction;
    await read;
    expect(outside).toEqual(['inside']);
  });

  it('rolls back everything its work wrote when the work throws, and the connection serves the next', async () => {
    await expect(
      inTransaction(orm, async (em) => {
        await insert(em, 'lost');
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    await inTransaction(orm, (em) => insert(em, 'kept'));
    expect(await namesOutside()).toEqual(['kept']);
  });

  it('refuses a query made through its EntityManager after it has ended', async () => {
    let leaked!: EntityManager;
    await inTransaction(orm, async (em) => {
      leaked = em.fork({ keepTransactionContext: true });
      await insert(em, 'committed');
    });
    await expect(insert(leaked, 'after the end')).rejects.toThrow(/ended/);
    expect(await namesOutside()).toEqual(['committed']);
  });

  it('keeps savepoint journals in memory, not in temporary files', async () => {
    expect(await orm.em.getConnection().execute('pragma temp_store')).toEqual([{ temp_store: 2 }]);
  });

  it('runs concurrent transactions one after the other, each seeing the last one committed', async () => {
    const counts = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        inTransaction(orm, async (em) => {
          const [row] = (await em.getConnection().execute('select count(*) as count from probe', [], 'all', em.getTransactionContext())) as { count: number }[];
          await new Promise((resolve) => setTimeout(resolve, 5));
          await insert(em, `writer-${index}`);
          return row?.count;
        }),
      ),
    );
    expect([...counts].sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
