import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignedCheckpointView } from './checkpoints.js';

/**
 * Writes signed checkpoints of every tenant's audit chain into a folder, on a schedule, for an
 * operator to ship elsewhere (object storage with retention, another organisation, a witness):
 * a checkpoint only anchors the trail when it is kept where whoever can write the database cannot.
 *
 * Each tenant has a folder (its id, URI-encoded), holding `<size>.checkpoint` for every size
 * written and `latest.checkpoint`. A checkpoint is written only when the chain grew since the last
 * one. Files are written whole (to a temporary name, then renamed), so a shipper never reads half,
 * and `latest.checkpoint` before the numbered one, so it is never older than any numbered file.
 */
export class CheckpointFiles {
  private readonly written = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | null = null;

  constructor(
    private readonly options: {
      dir: string;
      intervalMs: number;
      /** Signs a checkpoint of every tenant's chain as it is now. */
      checkpoints: () => Promise<SignedCheckpointView[]>;
      log: (message: string) => void;
    },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.writeNow().catch((error: unknown) => this.options.log(`audit checkpoints: writing failed: ${String(error)}`));
    }, this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the schedule and waits for a write in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => {});
  }

  /** Writes a checkpoint of each tenant whose chain grew since its last one; returns how many. */
  writeNow(): Promise<number> {
    this.running ??= this.write().finally(() => (this.running = null));
    return this.running;
  }

  private async write(): Promise<number> {
    let count = 0;
    for (const checkpoint of await this.options.checkpoints()) {
      if (this.written.get(checkpoint.tenant) === checkpoint.size) continue;
      const folder = join(this.options.dir, encodeURIComponent(checkpoint.tenant));
      await mkdir(folder, { recursive: true });
      // latest first: whoever sees <size>.checkpoint (a shipper, a test) then finds latest at that
      // size or beyond, never the round before.
      await writeWhole(join(folder, 'latest.checkpoint'), checkpoint.note);
      await writeWhole(join(folder, `${checkpoint.size}.checkpoint`), checkpoint.note);
      this.written.set(checkpoint.tenant, checkpoint.size);
      count++;
    }
    return count;
  }
}

async function writeWhole(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o644 });
  await rename(temporary, file);
}
