/**
 * Vitest global setup: when the test command has not started PostgreSQL and Redis already (a
 * targeted `npx vitest run …`), starts them with the same script and stops them afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const script = resolve(import.meta.dirname, '..', '..', 'scripts', 'test-services.sh');

export default function setup(): (() => void) | void {
  if (process.env['COUNTERSIGN_TEST_POSTGRES_URL'] && process.env['COUNTERSIGN_TEST_REDIS_URL']) return;
  const dir = mkdtempSync(join(tmpdir(), 'countersign-services-'));
  const exports = execFileSync('bash', [script, 'up', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  for (const line of exports.split('\n')) {
    const match = /^export (\w+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1] as string] = match[2];
  }
  return () => {
    execFileSync('bash', [script, 'down', dir], { stdio: 'inherit' });
  };
}
