// The worker thread of wal-checkpoints.ts: checkpoints one SQLite file's WAL on its own
// connection, every `intervalMs` and when asked, so the server's connection never does.
//
// Plain JavaScript on purpose: a worker inherits no `--import tsx` loader, and registering one
// in it costs a few hundred milliseconds at every database open (each test opens several). This
// file needs no loader, in the sources and in the built package alike.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/** @type {{ path: string; intervalMs: number }} */
const { path, intervalMs } = workerData;
const port = parentPort;
if (!port) throw new Error('checkpoint-worker.mjs runs as a worker thread');

const database = new Database(path, { fileMustExist: true });

// PASSIVE: copy what no reader still needs, waiting on nobody. The server's writes go on meanwhile;
// a frame a reader still uses is copied at a later checkpoint.
const checkpoint = () => {
  const [row] = /** @type {{ busy: number; log: number; checkpointed: number }[]} */ (database.pragma('wal_checkpoint(passive)'));
  return { busy: row?.busy === 1, log: row?.log ?? 0, checkpointed: row?.checkpointed ?? 0 };
};

/** A checkpoint that fails ends the worker: the main thread then hands checkpoints back to SQLite. */
const guarded = (reply) => {
  try {
    reply(checkpoint());
  } catch (error) {
    port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    clearInterval(timer);
    database.close();
    port.close();
  }
};

const timer = setInterval(() => guarded(() => {}), intervalMs);

port.on('message', (message) => {
  if (message.type === 'checkpoint') guarded((result) => port.postMessage({ type: 'checkpointed', id: message.id, result }));
  else if (message.type === 'close') {
    clearInterval(timer);
    database.close();
    port.close();
  }
});
