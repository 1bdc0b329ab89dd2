import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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
    const wal = new KeptOpenFile(`${databasePath}-wal`);
    let directorySynced = false;
    return new WalSync(async () => {
      await wal.sync();
      // The WAL file may have been created by this process: its name must be durable too, as
      // SQLite makes it (once, at the first sync of a new WAL) under synchronous=FULL.
      if (!directorySynced) {
        await fsyncPath(dirname(wal.path));
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

/** How long a file is kept open after its last fsync. */
const KEPT_OPEN_MS = 1_000;

/**
 * A file fsynced through a descriptor kept open while fsyncs keep coming: each is then one trip to
 * the thread pool, where opening and closing the file around it made three (and a decision, which
 * commits alone, waits for every one of them). What is synced is always the file `path` names now:
 * before each fsync the path's inode is compared (one cached `stat`, on this thread) with the one
 * held, and a file SQLite deleted and re-created is opened anew. SQLite removes its WAL only once
 * no connection has the database open, after checkpointing it (fsynced) into the database, so
 * nothing committed is ever left in a file no longer synced. The descriptor is closed
 * {@link KEPT_OPEN_MS} after the last fsync: a database closed keeps none open for long.
 */
export class KeptOpenFile {
  private handle: FileHandle | null = null;
  private inode: { dev: number; ino: number } | null = null;
  private lastSync = 0;
  private syncing = false;
  private closer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    private readonly keptOpenMs = KEPT_OPEN_MS,
  ) {}

  /**
   * Fsyncs the file `path` names; rejects as fsync does (or open, when there is no such file).
   * One call at a time (WalSync makes them so).
   */
  async sync(): Promise<void> {
    this.syncing = true;
    try {
      await this.syncNamed();
    } finally {
      this.syncing = false;
    }
    this.lastSync = Date.now();
    this.closeWhenIdle();
  }

  private async syncNamed(): Promise<void> {
    const named = statSync(this.path, { throwIfNoEntry: false });
    if (this.handle !== null && (named === undefined || named.ino !== this.inode?.ino || named.dev !== this.inode.dev)) await this.close();
    if (this.handle === null) {
      const handle = await open(this.path, 'r');
      const { dev, ino } = await handle.stat();
      this.handle = handle;
      this.inode = { dev, ino };
    }
    try {
      await this.handle.sync();
    } catch (error) {
      // Opened afresh for the next attempt: nothing is assumed of a descriptor an fsync failed on.
      await this.close();
      throw error;
    }
  }

  /** Closes the descriptor now; the next fsync opens the file again. */
  async close(): Promise<void> {
    clearTimeout(this.closer);
    this.closer = undefined;
    const handle = this.handle;
    this.handle = null;
    this.inode = null;
    await handle?.close();
  }

  /** One timer, pushed back as fsyncs come rather than set again for each. */
  private closeWhenIdle(): void {
    if (this.closer !== undefined) return;
    const check = (): void => {
      const idleFor = Date.now() - this.lastSync;
      if (idleFor >= this.keptOpenMs && !this.syncing) {
        this.closer = undefined;
        void this.close().catch(() => {});
      } else {
        this.closer = setTimeout(check, Math.max(1, this.keptOpenMs - idleFor)).unref();
      }
    };
    this.closer = setTimeout(check, this.keptOpenMs).unref();
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
