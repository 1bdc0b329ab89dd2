import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'countersign-test-secret-0123456789abcdef';
/** Production also requires caller tokens' issuer and audience to be configured. */
const PRODUCTION = { NODE_ENV: 'production', COUNTERSIGN_AUTH_ISSUER: 'https://idp.example', COUNTERSIGN_AUTH_AUDIENCE: 'countersign' };
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-config-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the key-encryption key', () => {
  it('is required in production, and the error names the variable', () => {
    const dir = tempDir();
    const load = () =>
      loadConfig({ ...PRODUCTION, COUNTERSIGN_AUTH_SECRET: SECRET, COUNTERSIGN_DB: join(dir, 'db.sqlite') });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/COUNTERSIGN_KEY_ENCRYPTION_KEY/);
  });

  it('is read from COUNTERSIGN_KEY_ENCRYPTION_KEY as base64', () => {
    const key = randomBytes(32);
    const config = loadConfig({
      ...PRODUCTION,
      COUNTERSIGN_AUTH_SECRET: SECRET,
      COUNTERSIGN_KEY_ENCRYPTION_KEY: key.toString('base64'),
      COUNTERSIGN_DB: join(tempDir(), 'db.sqlite'),
    });
    expect(Buffer.from(config.keyEncryptionKey).equals(key)).toBe(true);
  });

  it('is read from the file named by COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE, as base64 text or raw bytes', () => {
    const dir = tempDir();
    const key = randomBytes(32);
    writeFileSync(join(dir, 'kek.b64'), key.toString('base64') + '\n');
    writeFileSync(join(dir, 'kek.bin'), key);
    for (const name of ['kek.b64', 'kek.bin']) {
      const config = loadConfig({
        ...PRODUCTION,
        COUNTERSIGN_AUTH_SECRET: SECRET,
        COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE: join(dir, name),
        COUNTERSIGN_DB: join(dir, 'db.sqlite'),
      });
      expect(Buffer.from(config.keyEncryptionKey).equals(key)).toBe(true);
    }
  });

  it('refuses a key that is not 32 bytes, or a missing file, naming the variable', () => {
    const dir = tempDir();
    expect(() => loadConfig({ COUNTERSIGN_KEY_ENCRYPTION_KEY: randomBytes(16).toString('base64') })).toThrow(
      /^COUNTERSIGN_KEY_ENCRYPTION_KEY: expected 32 random bytes/,
    );
    expect(() => loadConfig({ COUNTERSIGN_KEY_ENCRYPTION_KEY: 'not base64 at all!' })).toThrow(/COUNTERSIGN_KEY_ENCRYPTION_KEY/);
    expect(() => loadConfig({ COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE: join(dir, 'absent') })).toThrow(
      /^COUNTERSIGN_KEY_ENCRYPTION_KEY_FILE: cannot read/,
    );
    expect(() => loadConfig({}, { databasePath: join(dir, 'db.sqlite'), keyEncryptionKey: new Uint8Array(8) })).toThrow(/32 bytes/);
  });

  it('is generated once beside the database outside production, readable by the owner only', () => {
    const dir = tempDir();
    const first = loadConfig({ COUNTERSIGN_DB: join(dir, 'db.sqlite') });
    const second = loadConfig({ COUNTERSIGN_DB: join(dir, 'db.sqlite') });
    expect(first.keyEncryptionKey.byteLength).toBe(32);
    expect(Buffer.from(second.keyEncryptionKey).equals(Buffer.from(first.keyEncryptionKey))).toBe(true);
    const file = join(dir, 'dev-key-encryption-key');
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(Buffer.from(first.keyEncryptionKey))).toBe(true);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('takes an override over the environment', () => {
    const key = randomBytes(32);
    const config = loadConfig({ ...PRODUCTION, COUNTERSIGN_AUTH_SECRET: SECRET }, { keyEncryptionKey: key });
    expect(config.keyEncryptionKey).toBe(key);
  });
});
