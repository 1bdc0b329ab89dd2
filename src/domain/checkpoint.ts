import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { JWK } from 'jose';
import { InvalidInputError } from './errors.js';

/*
 * Signed checkpoints of a tenant's audit chain, in the C2SP formats: the body is a
 * tlog-checkpoint (https://c2sp.org/tlog-checkpoint) and the whole a signed note
 * (https://c2sp.org/signed-note) with an Ed25519 signature:
 *
 *     urn:countersign:local/audit/acme              origin: the issuer and the tenant
 *     1042                                          size: events in the chain
 *     q5L1c3Yp2W0uqQ0tXQ4PqWj1j3Y1aJbK3l9uOeQ6vE8=  head: base64 of the last event's hash
 *     time 2026-12-01T12:00:00.000Z                 extension line: when it was taken
 *
 *     — countersign-audit/<kid> <base64(key id || signature)>
 *
 * The third line is the head of the hash chain (the `hash` of event `size`, or 32 zero bytes for
 * an empty chain), not a Merkle tree root: the chain is a list, each event hashing its predecessor.
 *
 * The signing key is the decision-token key: the key name is `countersign-audit/` followed by the
 * key's JWKS `kid` (its RFC 7638 thumbprint), so a verifier finds the public key in the published
 * JWKS by that kid. The 4-byte key id is, as signed-note defines it for Ed25519, the first four
 * bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key).
 */

/** The key name prefix of checkpoint signatures; the JWKS `kid` follows it. */
export const CHECKPOINT_KEY_PREFIX = 'countersign-audit/';

/** What a checkpoint asserts: at `time`, the chain of `origin` held `size` events ending in `headHash`. */
export interface Checkpoint {
  origin: string;
  size: number;
  /** Hex, as audit events store their hashes. */
  headHash: string;
  time: Date;
}

/** A checkpoint read from a signed note, with the key that signed it. */
export interface SignedCheckpoint extends Checkpoint {
  /** The JWKS `kid` of the key that signed it (from the signature's key name). */
  kid: string;
  /** The signed note, as given. */
  note: string;
}

/** The origin line of a tenant's chain: an issuer-qualified name with no spaces. */
export function checkpointOrigin(issuer: string, tenant: string): string {
  return `${issuer}/audit/${tenant}`;
}

const HEX_64 = /^[0-9a-f]{64}$/;
const SIGNATURE_PREFIX = '\u2014 ';
const ED25519_ALGORITHM = 0x01;

/** The checkpoint body (the signed text), each line ending in a newline. */
export function checkpointBody(checkpoint: Checkpoint): string {
  if (/\s/.test(checkpoint.origin) || checkpoint.origin === '') throw new InvalidInputError('origin', 'must be non-empty with no whitespace');
  if (!Number.isSafeInteger(checkpoint.size) || checkpoint.size < 0) throw new InvalidInputError('size', 'must be a non-negative integer');
  if (!HEX_64.test(checkpoint.headHash)) throw new InvalidInputError('headHash', 'must be 64 lowercase hexadecimal characters');
  return `${checkpoint.origin}\n${checkpoint.size}\n${Buffer.from(checkpoint.headHash, 'hex').toString('base64')}\ntime ${checkpoint.time.toISOString()}\n`;
}

/** The signed-note key id of an Ed25519 public key (`x` of its JWK) under `name`. */
export function noteKeyId(name: string, publicX: string): Buffer {
  const key = Buffer.concat([Buffer.from([ED25519_ALGORITHM]), Buffer.from(publicX, 'base64url')]);
  return createHash('sha256').update(name, 'utf8').update('\n').update(key).digest().subarray(0, 4);
}

/**
 * The verifier key of `kid` in the signed-note `vkey` format (`name+hexid+base64(0x01||key)`),
 * which note tooling (golang.org/x/mod/sumdb/note and others) accepts.
 */
export function verifierKey(publicJwk: JWK & { kid: string }): string {
  const name = CHECKPOINT_KEY_PREFIX + publicJwk.kid;
  const key = Buffer.concat([Buffer.from([ED25519_ALGORITHM]), Buffer.from(publicJwk.x ?? '', 'base64url')]);
  return `${name}+${noteKeyId(name, publicJwk.x ?? '').toString('hex')}+${key.toString('base64')}`;
}

/** Signs a checkpoint with an Ed25519 key (the decision-token key): the signed note. */
export function signCheckpoint(checkpoint: Checkpoint, key: { kid: string; privateJwk: JWK; publicJwk: JWK }): string {
  const body = checkpointBody(checkpoint);
  const name = CHECKPOINT_KEY_PREFIX + key.kid;
  const signature = sign(null, Buffer.from(body, 'utf8'), createPrivateKey({ key: key.privateJwk as never, format: 'jwk' }));
  const line = Buffer.concat([noteKeyId(name, key.publicJwk.x ?? ''), signature]).toString('base64');
  return `${body}\n${SIGNATURE_PREFIX}${name} ${line}\n`;
}

/** Why a presented checkpoint was refused. */
function invalid(problem: string): InvalidInputError {
  return new InvalidInputError('checkpoint', problem);
}

/**
 * Reads and verifies a signed checkpoint: the format, and an Ed25519 signature by a key that
 * `publicKeyOf` knows (by JWKS kid). Throws InvalidInputError (field `checkpoint`) otherwise.
 */
export function verifyCheckpoint(note: string, publicKeyOf: (kid: string) => JWK | null): SignedCheckpoint {
  if (typeof note !== 'string' || note.length > 16_384) throw invalid('must be a signed note of at most 16 KiB');
  const split = note.indexOf('\n\n');
  if (split < 0) throw invalid('is no signed note (no blank line before the signatures)');
  const body = note.slice(0, split + 1);
  const lines = body.slice(0, -1).split('\n');
  const [origin, sizeLine, headLine, ...extensions] = lines;
  if (!origin || /\s/.test(origin)) throw invalid('has no origin line');
  if (!sizeLine || !/^(0|[1-9][0-9]{0,15})$/.test(sizeLine)) throw invalid('has no tree size line');
  const head = Buffer.from(headLine ?? '', 'base64');
  if (!headLine || head.byteLength !== 32 || head.toString('base64') !== headLine) throw invalid('has no 32-byte base64 head hash line');
  const timeLine = extensions.find((line) => line.startsWith('time '));
  const time = new Date(timeLine ? timeLine.slice(5) : Number.NaN);
  if (Number.isNaN(time.getTime())) throw invalid('has no time line');

  const signatures = note.slice(split + 2).split('\n').filter((line) => line !== '');
  for (const line of signatures) {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw invalid('has a malformed signature line');
    const [name, encoded] = line.slice(SIGNATURE_PREFIX.length).split(' ');
    if (!name?.startsWith(CHECKPOINT_KEY_PREFIX) || !encoded) continue;
    const kid = name.slice(CHECKPOINT_KEY_PREFIX.length);
    const jwk = publicKeyOf(kid);
    if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') continue;
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.byteLength !== 68 || !bytes.subarray(0, 4).equals(noteKeyId(name, jwk.x))) continue;
    const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
    if (verify(null, Buffer.from(body, 'utf8'), publicKey, bytes.subarray(4))) {
      return { origin, size: Number(sizeLine), headHash: head.toString('hex'), time, kid, note };
    }
    throw invalid(`signature by ${name} does not verify`);
  }
  throw invalid('is signed by no key of this server');
}
