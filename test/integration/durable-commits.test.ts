/**
 * With better-sqlite3 the fsync that makes a commit durable runs off the event loop: the committer
 * answers a batch's callers, and publishes its changes, only once that fsync has completed, while
 * the next batch runs meanwhile. The fsync is replaced here by one the test completes by hand.
 */
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/db/audit-log.js';
import { Committer } from '../../src/db/committer.js';
import { runStatement } from '../../src/db/fast-paths.js';
import { openDatabase } from '../../src/db/orm.js';
import { inTransaction } from '../../src/db/transaction.js';
import { KeptOpenFile, registerWalSync, WalSync } from '../../src/db/wal-sync.js';

let dir: string;
let orm: MikroORM;
/** The fsyncs asked for and not yet completed, oldest first. */
let fsyncs: { complete: () => void; fail: (error: Error) => void }[];
let fsyncAsked: () => void = () => {};
let committed: () => void = () => {};

const nextFsync = () => new Promise<void>((resolve) => (fsyncAsked = resolve));
const nextCommit = () => new Promise<void>((resolve) => (committed = resolve));

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-durable-'));
  orm = await openDatabase({ driver: 'better-sqlite', path: join(dir, 'countersign.sqlite') });
  await orm.em.getConnection().execute('create table probe (name text)', [], 'run');
  fsyncs = [];
  registerWalSync(
    orm,
    new WalSync(
      () =>
        new Promise<void>((complete, fail) => {
          fsyncs.push({ complete, fail });
          fsyncAsked();
        }),
    ),
  );
});

afterEach(async () => {
  await orm.close(true);
  rmSync(dir, { recursive: true, force: true });
});

const names = async (): Promise<string[]> =>
  ((await orm.em.fork().getConnection().execute('select name from probe order by rowid')) as { name: string }[]).map((row) => row.name);

describe('a commit made durable off the event loop', () => {
  it('answers and publishes a batch once its fsync completes, in commit order, while the next batch commits', async () => {
    const committer = new Committer(orm, new AuditLog(), 128, () => committed());
    const published: string[] = [];
    const answers: string[] = [];
    const write = (name: string) =>
      committer.run(async (unit) => {
        await runStatement(unit.em, `insert into probe (name) values ('${name}')`);
        unit.afterCommit(() => published.push(name));
        return name;
      });
    const answered = (promise: Promise<string>) => void promise.then((name) => answers.push(name));

    const first = nextFsync();
    answered(write('a'));
    await first;
    // Committed and readable, but neither answered nor published before it is on disk.
    expect(await names()).toEqual(['a']);
    expect([answers, published]).toEqual([[], []]);

    // The next batch commits while the first fsync runs, and waits for an fsync that starts after it.
    const second = nextCommit();
    answered(write('b'));
    answered(write('c'));
    await second;
    expect(await names()).toEqual(['a', 'b', 'c']);
    expect(fsyncs).toHaveLength(1);

    const third = nextFsync();
    fsyncs.shift()!.complete();
    await third;
    await new Promise((resolve) => setImmediate(resolve));
    expect([answers, published]).toEqual([['a'], ['a']]);

    fsyncs.shift()!.complete();
    await committer.whenIdle();
    expect([answers, published]).toEqual([['a', 'b', 'c'], ['a', 'b', 'c']]);
  });

  it('tells every caller of a batch whose fsync failed of the failure, and publishes nothing of it', async () => {
    const committer = new Committer(orm, new AuditLog());
    const published: string[] = [];
    const asked = nextFsync();
    const call = committer.run(async (unit) => {
      await runStatement(unit.em, "insert into probe (name) values ('lost')");
      unit.afterCommit(() => published.push('lost'));
      return 'lost';
    });
    await asked;
    fsyncs.shift()!.fail(new Error('EIO: the disk failed'));
    await expect(call).rejects.toThrow('EIO');
    expect(published).toEqual([]);
  });

  it('returns from a transaction outside the committer only once it is durable', async () => {
    let returned = false;
    const asked = nextFsync();
    const transaction = inTransaction(orm, (em) => runStatement(em, "insert into probe (name) values ('settings')")).then(() => (returned = true));
    await asked;
    await new Promise((resolve) => setImmediate(resolve));
    expect(returned).toBe(false);
    fsyncs.shift()!.complete();
    await transaction;
    expect(returned).toBe(true);
  });
});

describe('the WAL of a database file', () => {
  it('is fsynced by the default WalSync, and a database reopened holds every commit answered', async () => {
    const path = join(dir, 'real.sqlite');
    const real = await openDatabase({ driver: 'better-sqlite', path });
    const committer = new Committer(real, new AuditLog());
    await real.em.getConnection().execute('create table probe (name text)', [], 'run');
    await Promise.all(['x', 'y', 'z'].map((name) => committer.run((unit) => runStatement(unit.em, `insert into probe (name) values ('${name}')`))));
    expect(((await real.em.fork().getConnection().execute('pragma synchronous')) as { synchronous: number }[])[0]!.synchronous).toBe(1);
    await real.close(true);
    const reopened = await openDatabase({ driver: 'better-sqlite', path });
    expect(((await reopened.em.fork().getConnection().execute('select name from probe order by rowid')) as { name: string }[]).map((row) => row.name)).toEqual(['x', 'y', 'z']);
    await reopened.close(true);
  });
});

describe('a file kept open between fsyncs', () => {
  /** What this process's descriptors point at (Linux), ' (deleted)' marking a file removed since. */
  const openFiles = (): string[] =>
    readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return []; // closed while listing (the listing's own descriptor)
      }
    });
  const until = async (condition: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('holds one descriptor across fsyncs, syncs the file its path names when that is replaced, and closes once idle', async () => {
    const path = join(dir, 'replaced-wal');
    writeFileSync(path, 'first');
    const file = new KeptOpenFile(path, 50);
    await file.sync();
    await file.sync();
    expect(openFiles().filter((target) => target.startsWith(path))).toEqual([path]);

    // Deleted and made again under the same name: the new file is the one synced, the old one let go.
    rmSync(path);
    writeFileSync(path, 'second');
    await file.sync();
    expect(openFiles().filter((target) => target.startsWith(path))).toEqual([path]);

    // Without a path there is nothing to sync: the failure is the caller's to hear.
    rmSync(path);
    await expect(file.sync()).rejects.toThrow(/ENOENT/);
    expect(openFiles().filter((target) => target.startsWith(path))).toEqual([]);

    writeFileSync(path, 'third');
    await file.sync();
    expect(openFiles().filter((target) => target.startsWith(path))).toEqual([path]);
    await until(() => !openFiles().some((target) => target.startsWith(path)));
  });
});
