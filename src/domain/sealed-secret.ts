import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest (signing keys, channel secrets): sealed with AES-256-GCM under a
 * key-encryption key (KEK) that never lives in the database.
 *
 * The sealed form is one line of text, `cs1.<iv>.<ciphertext>.<tag>`, each part base64url
 * without padding: a 12-byte random IV, the ciphertext and the 16-byte GCM tag. The leading
 * `cs1` names the format version, so a later format can be told apart and read alongside.
 *
 * The `aad` (additional authenticated data) binds a sealed value to where it belongs (say
 * `signing_key:<kid>`): a sealed value copied into another row fails to open there.
 */

/** The version tag every sealed value of this format starts with. */
export const SEALED_PREFIX = 'cs1.';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value that cannot be opened: wrong key, wrong `aad`, tampered or not a sealed value. */
export class SealedSecretError extends Error {
  readonly code = 'SECRET_UNSEALABLE';
  constructor(message: string) {
    super(message);
    this.name = 'SealedSecretError';
  }
}

function checkKey(kek: Uint8Array): void {
  if (!(kek instanceof Uint8Array) || kek.byteLength !== KEY_BYTES) {
    throw new SealedSecretError(`the key-encryption key must be ${KEY_BYTES} bytes`);
  }
}

/** Seals `plaintext` under `kek` (32 bytes), bound to `aad`; every call uses a fresh random IV. */
export function sealSecret(kek: Uint8Array, plaintext: string, aad: string): string {
  checkKey(kek);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return SEALED_PREFIX + [iv, ciphertext, tag].map((part) => part.toString('base64url')).join('.');
}

/** Opens a value sealed by {@link sealSecret} with the same `kek` and `aad`; throws {@link SealedSecretError} otherwise. */
export function openSecret(kek: Uint8Array, sealed: string, aad: string): string {
  checkKey(kek);
  if (!isSealed(sealed)) throw new SealedSecretError('not a sealed value (expected the cs1 format)');
  const parts = sealed.slice(SEALED_PREFIX.length).split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) {
    throw new SealedSecretError('malformed sealed value');
  }
  const [iv, ciphertext, tag] = parts.map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
  if (iv.byteLength !== IV_BYTES || tag.byteLength !== TAG_BYTES) throw new SealedSecretError('malformed sealed value');
  const decipher = createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SealedSecretError('the sealed value does not open with this key and context (wrong key, wrong context or tampered)');
  }
}

/** Whether `value` is in a sealed format (it may still fail to open). */
export function isSealed(value: string): boolean {
  return value.startsWith(SEALED_PREFIX);
}
