import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SignedCheckpointView } from '../../src/app/checkpoints.js';
import { CheckpointFiles } from '../../src/app/checkpoint-files.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A checkpoint of tenant `acme` at `size`; the note is only read back, never verified, here. */
const checkpointAt = (size: number): SignedCheckpointView =>
  ({ tenant: 'acme', size, note: `size ${size}\n`, kid: 'k', keyName: 'countersign-audit/k' }) as unknown as SignedCheckpointView;

describe('checkpoint files', () => {
  it('never show a numbered checkpoint newer than latest.checkpoint, at any moment of a round', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-checkpoint-files-'));
    folders.push(dir);
    let size = 0;
    const files = new CheckpointFiles({ dir, intervalMs: 60_000, checkpoints: async () => [checkpointAt(size)], log: () => {} });
    const folder = join(dir, 'acme');
    const violations: string[] = [];
    let writing = true;
    // Looks at the folder on every turn of the event loop, between the file operations of a round,
    // as a shipper reading it would: whoever sees N.checkpoint must find latest at N or beyond.
    const watch = (async () => {
      while (writing) {
        await new Promise((resolve) => setImmediate(resolve));
        if (!existsSync(folder)) continue;
        const newest = Math.max(0, ...readdirSync(folder).flatMap((name) => (/^\d+\.checkpoint$/.test(name) ? [Number.parseInt(name, 10)] : [])));
        const latestFile = join(folder, 'latest.checkpoint');
        const latest = existsSync(latestFile) ? Number(/^size (\d+)/.exec(readFileSync(latestFile, 'utf8'))?.[1]) : 0;
        if (latest < newest) violations.push(`${newest}.checkpoint beside latest at ${latest}`);
      }
    })();
    for (let round = 1; round <= 30; round++) {
      size = round;
      expect(await files.writeNow()).toBe(1);
    }
    writing = false;
    await watch;
    expect(violations).toEqual([]);
    expect(readFileSync(join(folder, 'latest.checkpoint'), 'utf8')).toBe('size 30\n');
    // The chain did not grow: the next round writes nothing.
    expect(await files.writeNow()).toBe(0);
  });
});
