import { openSecret, sealSecret } from '../domain/sealed-secret.js';

/** Seals and opens channel secrets at rest; `aad` binds a sealed value to its row. */
export interface SecretBox {
  seal(plaintext: string, aad: string): string;
  open(sealed: string, aad: string): string;
}

/** The box of channel secrets: AES-256-GCM under the key-encryption key, which is not in the database. */
export function sealedSecretBox(keyEncryptionKey: Uint8Array): SecretBox {
  return {
    seal: (plaintext, aad) => sealSecret(keyEncryptionKey, plaintext, aad),
    open: (sealed, aad) => openSecret(keyEncryptionKey, sealed, aad),
  };
}

export { channelSecretAad } from '../db/entities/notification-channel.entity.js';
