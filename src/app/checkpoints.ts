import { checkpointOrigin, signCheckpoint, verifyCheckpoint, type Checkpoint } from '../domain/checkpoint.js';
import { GENESIS_HASH } from '../domain/audit-chain.js';
import { InvalidInputError } from '../domain/errors.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';

/** A signed checkpoint of a tenant's audit chain: the note and what it asserts. */
export interface SignedCheckpointView extends Checkpoint {
  tenant: string;
  /** The signed note (C2SP signed-note holding a tlog-checkpoint), to keep elsewhere. */
  note: string;
  /** The JWKS `kid` of the key that signed it. */
  kid: string;
  /** The signature's key name in the note: `countersign-audit/` then the kid. */
  keyName: string;
}

/** Signs a checkpoint of `tenant`'s chain as committed now, with the current decision-token key. */
export async function checkpointOf(deps: GateDeps, tenant: string): Promise<SignedCheckpointView> {
  await deps.committer.whenIdle();
  const head = await deps.stores.audit.head(tenant);
  const key = deps.keys.signingKey;
  const checkpoint: Checkpoint = {
    origin: checkpointOrigin(deps.issuer, tenant),
    size: head.size,
    headHash: head.hash ?? GENESIS_HASH,
    time: deps.now(),
  };
  return { ...checkpoint, tenant, note: signCheckpoint(checkpoint, key), kid: key.kid, keyName: `countersign-audit/${key.kid}` };
}

/** A signed checkpoint of the caller's tenant's chain (auditors and admins). */
export function auditCheckpoint(deps: GateDeps, caller: Caller): Promise<SignedCheckpointView> {
  requireRole(caller, 'auditor', 'admin');
  return checkpointOf(deps, caller.tenant);
}

/** How the chain stands against a checkpoint kept elsewhere. */
export interface CheckpointComparison {
  size: number;
  headHash: string;
  time: Date;
  /** Events in the chain now. */
  chainSize: number;
  /** The stored hash of event `size` now (null when the chain is shorter). */
  hashAtSize: string | null;
  /** `truncated`: the chain is shorter than the checkpoint; `rehashed`: event `size` hashes differently. */
  problem: 'truncated' | 'rehashed' | null;
}

/**
 * Compares the caller's tenant's chain with a signed checkpoint: the signature must verify with a
 * key of this server (retired keys too) and the checkpoint must be of this tenant's chain, or it
 * is refused (INVALID_INPUT, field `checkpoint`). A chain that lost events since (truncation) or
 * whose event at the checkpoint's size no longer has the hash it had (an edit re-hashed forward)
 * is reported.
 */
export async function compareWithCheckpoint(deps: GateDeps, tenant: string, note: string): Promise<CheckpointComparison> {
  const checkpoint = verifyCheckpoint(note, (kid) => deps.keys.publicKeyById(kid));
  if (checkpoint.origin !== checkpointOrigin(deps.issuer, tenant)) {
    throw new InvalidInputError('checkpoint', `is of another chain (${checkpoint.origin})`);
  }
  const head = await deps.stores.audit.head(tenant);
  const hashAtSize = checkpoint.size === 0 ? GENESIS_HASH : await deps.stores.audit.hashAt(tenant, checkpoint.size);
  const problem = head.size < checkpoint.size ? 'truncated' : hashAtSize !== checkpoint.headHash ? 'rehashed' : null;
  return { size: checkpoint.size, headHash: checkpoint.headHash, time: checkpoint.time, chainSize: head.size, hashAtSize, problem };
}
