import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';

/*
 * Durability without stopping the event loop. better-sqlite3 is synchronous: with
 * `synchronous=FULL` every COMMIT fsyncs the WAL on the main thread, and while it does (about a
 * millisecond on a quiet disk, tens on a busy one) the server parses, evaluates and signs nothing:
 * at 16 clients requesting approvals the loop spent a fifth to a third of its time in that fsync.
 * The server's database therefore runs with `synchronous=NORMAL` (commits reach the WAL file, and
 * checkpoints still fsync the WAL before copying it into the database, so the file is never
 * corrupted), and the fsync that makes a commit durable is made here, on libuv's thread pool.
 * Nothing is answered, published or otherwise acted on before it: the committer settles a batch
 * once `durable()` resolves, and `inTransaction` returns only then. Meanwhile the next batch can
 * run, and commits made while one fsync is in flight share the next one (group commit across
 * batches).
 */

/** Makes what was committed to one SQLite database's WAL durable, one fsync at a time. */
export class WalSync {
  private inFlight: Promise<void> | null = null;
  private following: Promise<void> | null = null;

  /** @param sync fsyncs the WAL file (injected by tests). */
  constructor(private readonly sync: () => Promise<void>) {}

  /** For the WAL of the SQLite file at `databasePath`. */
  static forFile(databasePath: string): WalSync {
    const walPath = `${databasePath}-wal`;
    let directorySynced = false;
    return new WalSync(async () => {
      // Opened for each fsync rather than kept: a file SQLite replaced is never the one synced.
      await fsyncPath(walPath);
      // The WAL file may have been created by this process: its name must be durable too, as
      // SQLite makes it (once, at the first sync of a new WAL) under synchronous=FULL.
      if (!directorySynced) {
        await fsyncPath(dirname(walPath));
        directorySynced = true;
      }
    });
  }

  /**
   * Resolves once everything committed before the call is on disk; rejects when the fsync fails
   * (the commit's durability is then unknown, and its callers must hear of a failure).
   */
  durable(): Promise<void> {
    if (this.inFlight === null) {
      const started = this.sync().finally(() => {
        if (this.inFlight === started) this.inFlight = null;
      });
      this.inFlight = started;
      return started;
    }
    // The fsync in flight may have started before this commit reached the WAL: wait for the
    // next one, which every commit made until it starts shares.
    this.following ??= this.inFlight.then(
      () => this.startFollowing(),
      () => this.startFollowing(),
    );
    return this.following;
  }

  private startFollowing(): Promise<void> {
    this.following = null;
    return this.durable();
  }
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const walSyncs = new WeakMap<MikroORM, WalSync>();

/** Hands the durability of `orm`'s commits to `sync` (see openDatabase). */
export function registerWalSync(orm: MikroORM, sync: WalSync): void {
  walSyncs.set(orm, sync);
}

/**
 * Resolves once what `orm` committed so far is durable: at once for databases whose commits are
 * durable by themselves (PostgreSQL, node-sqlite3, SQLite with `synchronous=FULL`, in memory).
 */
export function durable(orm: MikroORM): Promise<void> {
  return walSyncs.get(orm)?.durable() ?? Promise.resolve();
}
