import type { MikroORM } from '@mikro-orm/core';
import type { JWK } from 'jose';
import { openSecret, sealSecret } from '../domain/sealed-secret.js';
import { channelSecretAad, NotificationChannel } from './entities/notification-channel.entity.js';
import { SigningKeyRecord } from './entities/signing-key.entity.js';
import { isPlaintextPrivateKey, openPrivateKey, sealPrivateKey } from './keyring.js';
import { lockWriters } from './orm.js';
import { inTransaction } from './transaction.js';

/** What a rotation of the key-encryption key sealed again. */
export interface RewrapResult {
  signingKeys: number;
  channelSecrets: number;
}

/**
 * Rotates the key-encryption key: every secret at rest (signing keys, notification channel
 * secrets) is opened under `currentKey` and sealed again under `newKey`, in one transaction. A
 * secret that does not open under `currentKey` throws before anything is written, so a wrong
 * current key changes nothing. Servers must then be restarted with the new key: one still running
 * with the old key keeps signing with the keys it opened at start, but cannot open a key added
 * later.
 */
export async function rewrapSecrets(orm: MikroORM, currentKey: Uint8Array, newKey: Uint8Array): Promise<RewrapResult> {
  return inTransaction(orm, async (em) => {
    await lockWriters(em);
    const keys = await em.find(SigningKeyRecord, {});
    for (const record of keys) {
      const jwk = isPlaintextPrivateKey(record.privateJwk) ? (record.privateJwk as JWK) : openPrivateKey(currentKey, record);
      record.privateJwk = sealPrivateKey(newKey, record.kid, jwk);
    }
    const channels = await em.find(NotificationChannel, { sealedSecret: { $ne: null } });
    for (const channel of channels) {
      const aad = channelSecretAad(channel.id);
      channel.sealedSecret = sealSecret(newKey, openSecret(currentKey, channel.sealedSecret as string, aad), aad);
    }
    return { signingKeys: keys.length, channelSecrets: channels.length };
  });
}
