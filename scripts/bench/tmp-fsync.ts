import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
const dir = mkdtempSync(join(tmpdir(), 'fs-'));
const db = new Database(join(dir, 'x.sqlite'));
db.pragma('journal_mode = wal'); db.pragma('synchronous = full');
db.prepare('create table t (id integer primary key, v text)').run();
const ins = db.prepare('insert into t (v) values (?)');
for (const rows of [1, 10, 100]) {
  const lat: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < 2000) { const s = performance.now(); db.transaction(() => { for (let i = 0; i < rows; i++) ins.run('x'.repeat(500)); })(); lat.push(performance.now() - s); }
  lat.sort((a, b) => a - b);
  console.log(`rows/commit ${rows}: ${lat.length / 2} commits/s, p50 ${lat[lat.length >> 1]!.toFixed(2)} ms, p99 ${lat[Math.floor(lat.length * 0.99)]!.toFixed(2)} ms`);
}
db.pragma('synchronous = normal');
{ const t0 = performance.now(); let n = 0; while (performance.now() - t0 < 1000) { db.transaction(() => ins.run('x'))(); n++; } console.log('synchronous=normal commits/s', n); }
