import { createDecipheriv, randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { isSealed, openSecret, sealSecret, SealedSecretError } from '../../src/domain/sealed-secret.js';

const kek = randomBytes(32);

describe('sealed secrets', () => {
  it('opens what it sealed, with the same key and context', () => {
    const sealed = sealSecret(kek, '{"kty":"OKP","d":"secret"}', 'signing_key:abc');
    expect(openSecret(kek, sealed, 'signing_key:abc')).toBe('{"kty":"OKP","d":"secret"}');
    expect(isSealed(sealed)).toBe(true);
  });

  it('keeps no plaintext in the sealed form and uses a fresh IV each time', () => {
    const a = sealSecret(kek, 'hunter2-hunter2', 'x');
    const b = sealSecret(kek, 'hunter2-hunter2', 'x');
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(Buffer.from(a.split('.')[2]!, 'base64url').toString('utf8')).not.toContain('hunter2');
  });

  it('is AES-256-GCM in the documented cs1.<iv>.<ciphertext>.<tag> layout', () => {
    const sealed = sealSecret(kek, 'plain text', 'aad');
    const [version, iv, ciphertext, tag] = sealed.split('.') as [string, string, string, string];
    expect(version).toBe('cs1');
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from('aad'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    expect(plain.toString()).toBe('plain text');
  });

  it('refuses another key', () => {
    const sealed = sealSecret(kek, 'value', 'ctx');
    expect(() => openSecret(randomBytes(32), sealed, 'ctx')).toThrow(SealedSecretError);
  });

  it('refuses a sealed value moved to another context', () => {
    const sealed = sealSecret(kek, 'value', 'signing_key:one');
    expect(() => openSecret(kek, sealed, 'signing_key:two')).toThrow(SealedSecretError);
  });

  it('refuses a tampered ciphertext or tag', () => {
    const sealed = sealSecret(kek, 'value value value', 'ctx');
    const parts = sealed.split('.');
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      return bytes.toString('base64url');
    };
    expect(() => openSecret(kek, [parts[0], parts[1], flip(parts[2]!), parts[3]].join('.'), 'ctx')).toThrow(SealedSecretError);
    expect(() => openSecret(kek, [parts[0], parts[1], parts[2], flip(parts[3]!)].join('.'), 'ctx')).toThrow(SealedSecretError);
  });

  it('refuses plaintext, other versions and malformed values', () => {
    expect(() => openSecret(kek, '{"d":"x"}', 'ctx')).toThrow(SealedSecretError);
    expect(() => openSecret(kek, 'cs2.a.b.c', 'ctx')).toThrow(SealedSecretError);
    expect(() => openSecret(kek, 'cs1.a.b', 'ctx')).toThrow(SealedSecretError);
    expect(() => openSecret(kek, 'cs1.!!.b.c', 'ctx')).toThrow(SealedSecretError);
    expect(isSealed('{"d":"x"}')).toBe(false);
  });

  it('refuses a key-encryption key of the wrong length', () => {
    expect(() => sealSecret(randomBytes(16), 'value', 'ctx')).toThrow(/32 bytes/);
    expect(() => openSecret(randomBytes(31), 'cs1.a.b.c', 'ctx')).toThrow(/32 bytes/);
  });
});
