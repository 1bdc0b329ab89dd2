import type { Revocation } from '../db/stores/revocation-store.js';
import { revokeCallerTokens } from './revoke-caller.js';
import { systemClock, type Clock } from '../domain/clock.js';
import type { MikroORM } from '@mikro-orm/core';
import type { ChainVerification } from '../domain/audit-chain.js';
import { AuditLog } from '../db/audit-log.js';
import { Committer } from '../db/committer.js';
import type { AuditEvent } from '../db/entities/audit-event.entity.js';
import { KeyRing } from '../db/keyring.js';
import { isSharedDatabase } from '../db/orm.js';
import { createStores } from '../db/stores/index.js';
import type { PolicyEvaluator } from '../policy/index.js';
import { auditEvents, verifyAudit, verifyAuditChain, type AuditVerification } from './audit-queries.js';
import { auditCheckpoint, checkpointOf, type SignedCheckpointView } from './checkpoints.js';
import type { Caller } from './caller.js';
import { completeExecution } from './complete-execution.js';
import { decide } from './decide.js';
import type { GateDeps } from './deps.js';
import type { ChangePublisher } from './events.js';
import { execute } from './execute.js';
import { expireLapsed } from './expiry.js';
import type {
  ApprovalFilter,
  AuditFilter,
  CompleteExecutionInput,
  DecideInput,
  ExecuteInput,
  RequestApprovalInput,
  UpdateTenantSettingsInput,
} from './inputs.js';
import type { Page } from './pagination.js';
import { RateLimits } from './rate-limits.js';
import { approval, approvals, decisionToken, tokenOfChange } from './queries.js';
import { reissueToken, type ReissueTokenResult } from './reissue-token.js';
import { requestApproval } from './request-approval.js';
import { SharedState } from './shared-state.js';
import { tenantSettings, toPolicySettings, updateTenantSettings } from './tenant-settings.js';
import { verificationKeysOf } from './tokens.js';
import type { ApprovalView, ExecuteResult, RequestApprovalResult, TenantSettingsView } from './views.js';

export interface GateOptions {
  orm: MikroORM;
  evaluator: PolicyEvaluator;
  publisher: ChangePublisher;
  /** `iss` of decision tokens. */
  issuer: string;
  /** `aud` of decision tokens. */
  tokenAudience: string;
  /** Seals the signing keys at rest (32 bytes; never stored in the database). */
  keyEncryptionKey: Uint8Array;
  now?: Clock;
  /** The one writer of the database, when others (channel administration) share it. */
  committer?: Committer;
  /** Per-caller limits of requestApproval and execute (none when omitted). */
  rateLimits?: RateLimits;
}

/**
 * The approval gate: evaluates requests against the policy, records votes, issues and redeems
 * decision tokens, and audits every state change in the transaction that makes it. A thin facade
 * over the use cases (one file each in this folder); transports call it with a verified
 * {@link Caller}, and it knows nothing of GraphQL.
 */
export class Gate {
  readonly keys: KeyRing;
  readonly issuer: string;
  readonly tokenAudience: string;
  /** The per-caller limits; transports apply the failed-authentication one. */
  readonly rateLimits: RateLimits;
  private readonly deps: GateDeps;
  private readonly sharedDatabase: boolean;

  private constructor(options: GateOptions, keys: KeyRing) {
    const now = options.now ?? systemClock;
    this.keys = keys;
    this.issuer = options.issuer;
    this.tokenAudience = options.tokenAudience;
    this.sharedDatabase = isSharedDatabase(options.orm.em);
    const stores = createStores(options.orm);
    const shared = isSharedDatabase(options.orm.em) ? new SharedState(options.orm, stores.settings, options.evaluator, keys) : null;
    this.rateLimits = options.rateLimits ?? RateLimits.none();
    this.deps = {
      stores,
      evaluator: options.evaluator,
      publisher: options.publisher,
      committer: options.committer ?? new Committer(options.orm, new AuditLog(() => options.evaluator.revision)),
      keys,
      issuer: options.issuer,
      tokenAudience: options.tokenAudience,
      now,
      verificationKeys: verificationKeysOf(keys, now),
      currentState: shared ? (tenant) => shared.current(tenant) : () => Promise.resolve(),
      signedTokens: new WeakMap(),
    };
  }

  /** Opens the gate: loads signing keys and hands every tenant's stored settings to the policy. */
  static async open(options: GateOptions): Promise<Gate> {
    const gate = new Gate(options, await KeyRing.open(options.orm, options.keyEncryptionKey));
    const stored = await gate.deps.stores.settings.all();
    options.evaluator.setTenantSettings(Object.fromEntries(stored.map((settings) => [settings.tenant, toPolicySettings(settings)])));
    return gate;
  }

  /** Resolves when every queued write has committed. */
  whenIdle(): Promise<void> {
    return this.deps.committer.whenIdle();
  }

  /** Adds a signing key; the previous one stays published until its tokens expire. */
  async rotateSigningKey(): Promise<string> {
    const key = await this.keys.rotate(this.deps.now());
    return key.kid;
  }

  /** Picks up signing keys rotated by another process; the server calls it periodically. */
  async refreshSigningKeys(): Promise<void> {
    await this.keys.refresh();
  }

  /** The JWKS to publish, with keys another instance sharing the database rotated in. */
  async publishedKeys(): Promise<ReturnType<KeyRing['jwks']>> {
    if (this.sharedDatabase) await this.keys.refresh();
    return this.keys.jwks();
  }

  async requestApproval(caller: Caller, input: RequestApprovalInput): Promise<RequestApprovalResult> {
    await this.rateLimits.requestApproval.take(callerKey(caller));
    return requestApproval(this.deps, caller, input);
  }

  /** A fresh decision token for the requester of an approved request whose token expired unused. */
  reissueToken(caller: Caller, approvalId: string): Promise<ReissueTokenResult> {
    return reissueToken(this.deps, caller, { approvalId });
  }

  decide(caller: Caller, input: DecideInput): Promise<ApprovalView> {
    return decide(this.deps, caller, input);
  }

  async execute(caller: Caller, input: ExecuteInput): Promise<ExecuteResult> {
    await this.rateLimits.execute.take(callerKey(caller));
    return execute(this.deps, caller, input);
  }

  completeExecution(caller: Caller, input: CompleteExecutionInput): Promise<ExecuteResult> {
    return completeExecution(this.deps, caller, input);
  }

  approval(caller: Caller, id: string): Promise<ApprovalView> {
    return approval(this.deps, caller, id);
  }

  /** The decision token of an approved request, for its requester only (null for anyone else). */
  decisionToken(caller: Caller, approvalId: string): Promise<string | null> {
    return decisionToken(this.deps, caller, approvalId);
  }

  /** The decision token a committed change brings `caller`: see {@link tokenOfChange}. */
  tokenOfChange(caller: Caller, change: { kind: string; approval: ApprovalView }): string | null | Promise<string | null> {
    return tokenOfChange(this.deps, caller, change);
  }

  approvals(caller: Caller, filter: ApprovalFilter): Promise<Page<ApprovalView>> {
    return approvals(this.deps, caller, filter);
  }

  auditEvents(caller: Caller, filter: AuditFilter): Promise<Page<AuditEvent>> {
    return auditEvents(this.deps, caller, filter);
  }

  verifyAuditChain(caller: Caller): Promise<ChainVerification> {
    return verifyAuditChain(this.deps, caller);
  }

  /** The chain's links, against a signed checkpoint when given, and state against the trail. */
  verifyAudit(caller: Caller, options: { checkpoint?: string | null } = {}): Promise<AuditVerification> {
    return verifyAudit(this.deps, caller, options);
  }

  /** A signed checkpoint of the caller's tenant's audit chain (auditors and admins). */
  auditCheckpoint(caller: Caller): Promise<SignedCheckpointView> {
    return auditCheckpoint(this.deps, caller);
  }

  /** Signed checkpoints of every tenant's chain, for the schedule that ships them elsewhere. */
  async checkpoints(): Promise<SignedCheckpointView[]> {
    const tenants = await this.deps.stores.audit.tenantSizes();
    return Promise.all(tenants.map(({ tenant }) => checkpointOf(this.deps, tenant)));
  }

  tenantSettings(caller: Caller): Promise<TenantSettingsView> {
    return tenantSettings(this.deps, caller);
  }

  updateTenantSettings(caller: Caller, input: UpdateTenantSettingsInput): Promise<TenantSettingsView> {
    return updateTenantSettings(this.deps, caller, input);
  }

  /** Revokes a subject's caller tokens issued until now (admins; audited). */
  revokeCallerTokens(caller: Caller, input: { subject: string }): Promise<Revocation> {
    return revokeCallerTokens(this.deps, caller, input);
  }

  /** Every caller-token revocation, for the authenticator of each instance. */
  revocations(): Promise<Revocation[]> {
    return this.deps.stores.revocations.all();
  }

  /** Marks every lapsed pending request EXPIRED (the periodic sweep); returns how many. */
  expireDue(limit = 500): Promise<number> {
    return expireLapsed(this.deps, undefined, limit);
  }
}

/** Rate limits count per caller: one subject of one tenant, whichever token it presents. */
const callerKey = (caller: Caller): string => `${caller.tenant}\u0000${caller.subject}`;
