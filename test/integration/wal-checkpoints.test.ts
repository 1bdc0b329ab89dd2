/**
 * On better-sqlite3 the server's connection makes no WAL checkpoints (each would stop the event
 * loop for its copy and fsyncs); a worker thread makes them on its own connection. What a user
 * would notice: the WAL still stays bounded, nothing committed is lost across a restart, and
 * should the worker fail, SQLite's own checkpoints come back.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../src/db/orm.js';
import { walCheckpointerOf } from '../../src/db/wal-checkpoints.js';

let dir: string;
let path: string;
let orm: MikroORM;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-checkpoints-'));
  path = join(dir, 'countersign.sqlite');
  orm = await openDatabase({ driver: 'better-sqlite', path });
  await execute('create table probe (id integer primary key, body text)');
});

afterEach(async () => {
  await orm.close(true);
  rmSync(dir, { recursive: true, force: true });
});

const execute = (sql: string, values: unknown[] = []) => orm.em.getConnection().execute(sql, values, 'run');
const pragma = async (name: string): Promise<unknown> =>
  Object.values(((await orm.em.getConnection().execute(`pragma ${name}`)) as Record<string, unknown>[])[0] ?? {})[0];

/** Commits `count` transactions of about 8 KiB each (two pages or more apiece). */
async function write(count: number, from = 0): Promise<void> {
  for (let index = from; index < from + count; index++) await execute('insert into probe (id, body) values (?, ?)', [index, `${index}:`.padEnd(8_000, 'x')]);
}

const walBytes = (): number => statSync(`${path}-wal`).size;

describe('WAL checkpoints off the event loop', () => {
  it('leaves the server connection without checkpoints of its own while the worker makes them', async () => {
    expect(await pragma('wal_autocheckpoint')).toBe(0);
    // 1,500 commits of two pages: SQLite's own threshold (1,000 pages) would have checkpointed.
    await write(1_500);
    const checkpointer = walCheckpointerOf(orm)!;
    const result = await checkpointer.checkpoint();
    expect(result.busy).toBe(false);
    expect(result.log).toBeGreaterThan(1_000);
    expect(result.checkpointed).toBe(result.log);
  });

  it('keeps the WAL bounded: once checkpointed, later commits reuse it from the start', async () => {
    const checkpointer = walCheckpointerOf(orm)!;
    await write(600);
    const first = await checkpointer.checkpoint();
    const afterFirst = walBytes();
    for (let round = 1; round <= 4; round++) {
      await write(600, round * 600);
      const { log, checkpointed } = await checkpointer.checkpoint();
      expect(checkpointed).toBe(log);
      // Without checkpoints, or if the WAL were never restarted, it would hold every round so far.
      expect(log).toBeLessThan(first.log * 1.5);
    }
    expect(walBytes()).toBeLessThanOrEqual(afterFirst * 1.5);
  });

  it('checkpoints by itself, with nobody asking', async () => {
    await write(300);
    // The database file alone (without its WAL) holds only what was checkpointed into it; the
    // server's connection makes no checkpoints, so only the worker's own timer can put rows there.
    const copy = join(dir, 'file-alone.sqlite');
    await vi.waitFor(
      () => {
        copyFileSync(path, copy);
        const database = new Database(copy, { readonly: true });
        try {
          expect(database.prepare('select count(*) as count from probe').get()).toEqual({ count: 300 });
        } finally {
          database.close();
        }
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it('loses nothing committed across a close and reopen', async () => {
    await write(800);
    await orm.close(true);
    orm = await openDatabase({ driver: 'better-sqlite', path });
    const rows = (await orm.em.getConnection().execute('select count(*) as count, max(id) as last from probe')) as { count: number; last: number }[];
    expect(rows[0]).toEqual({ count: 800, last: 799 });
    expect(walCheckpointerOf(orm)?.running).toBe(true);
  });

  it('gives the checkpoints back to SQLite when the worker is lost', async () => {
    const checkpointer = walCheckpointerOf(orm)!;
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      // What an unexpected end of the thread looks like from the main thread.
      await (checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await vi.waitFor(async () => expect(await pragma('wal_autocheckpoint')).toBe(1_000));
      expect(checkpointer.running).toBe(false);
      await expect(checkpointer.checkpoint()).rejects.toThrow(/exited/);
      expect(warnings.some((message) => message.includes('SQLite checkpoints the WAL itself'))).toBe(true);
      // And writes go on.
      await write(10);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
