import type { JWTVerifyGetKey } from 'jose';
import type { Committer } from '../db/committer.js';
import type { KeyRing } from '../db/keyring.js';
import type { Stores } from '../db/stores/index.js';
import type { Clock } from '../domain/clock.js';
import type { PolicyEvaluator } from '../policy/index.js';
import type { ChangePublisher } from './events.js';

/** What every use case works with: built once by the gate, passed to each use-case function. */
export interface GateDeps {
  readonly stores: Stores;
  readonly evaluator: PolicyEvaluator;
  readonly publisher: ChangePublisher;
  /** Runs every write, one unit of work per job, committed in groups. */
  readonly committer: Committer;
  readonly keys: KeyRing;
  /** `iss` of decision tokens. */
  readonly issuer: string;
  /** `aud` of decision tokens. */
  readonly tokenAudience: string;
  readonly now: Clock;
  /** Resolves the keys that verify decision tokens, from the ring as it is now. */
  readonly verificationKeys: JWTVerifyGetKey;
  /**
   * Resolves once the tenant's settings and the signing keys this instance holds are as committed
   * (another instance may have changed them: see SharedState); at once with one process per database.
   */
  readonly currentState: (tenant: string) => Promise<void>;
  /**
   * The decision token signed for a change this process published (the approving vote's, a
   * reissue's), by the change's approval object: handed to the change's requester at the edge
   * without reading the approval again or signing a second time. Never part of the change itself;
   * it lives as long as the change does.
   */
  readonly signedTokens: WeakMap<object, string>;
}
