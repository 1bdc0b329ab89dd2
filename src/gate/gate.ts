import { randomUUID } from 'node:crypto';
import { ref, type EntityManager, type FilterQuery, type MikroORM } from '@mikro-orm/core';
import { createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { decide as applyVote, canExecute, type ApprovalStatus } from '../domain/approval-state.js';
import { verifyChain, type AuditChainEvent, type ChainVerification } from '../domain/audit-chain.js';
import { contextHash } from '../domain/context-hash.js';
import { signDecisionToken, verifyDecisionToken, type VerifiedDecision } from '../domain/decision-token.js';
import {
  AlreadyDecidedError,
  ContextMismatchError,
  CountersignError,
  ExpiredError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  TokenInvalidError,
  TokenReplayedError,
} from '../domain/errors.js';
import { AuditLog } from '../db/audit-log.js';
import { Committer, type Refusal, type UnitOfWork } from '../db/committer.js';
import { findData, insertNew, selectRawRows } from '../db/orm.js';
import { Approval } from '../db/entities/approval.entity.js';
import { AuditEvent } from '../db/entities/audit-event.entity.js';
import { Execution } from '../db/entities/execution.entity.js';
import { TenantSettings } from '../db/entities/tenant-settings.entity.js';
import { Vote } from '../db/entities/vote.entity.js';
import { policyToolHints, type PolicyDecision, type PolicyEvaluator, type TenantPolicySettings } from '../policy/index.js';
import { hasRole, requireRole, type Caller } from './caller.js';
import type { ApprovalChange, ChangePublisher } from './events.js';
import {
  contextObject,
  jsonValue,
  MAX_TTL_SECONDS,
  name,
  nameList,
  optionalInteger,
  optionalNumber,
  optionalText,
  priority,
  type CompleteExecutionInput,
  type DecideInput,
  type ExecuteInput,
  type RequestApprovalInput,
  type UpdateTenantSettingsInput,
} from './inputs.js';
import { KeyRing } from './keyring.js';
import { decodeCursor, encodeCursor, pageSize, toPage, type Page } from './pagination.js';
import { approvalView, tenantSettingsView, type ApprovalView, type TenantSettingsView, type VoteView } from './views.js';

export interface GateOptions {
  orm: MikroORM;
  evaluator: PolicyEvaluator;
  publisher: ChangePublisher;
  /** `iss` of decision tokens. */
  issuer: string;
  /** `aud` of decision tokens. */
  tokenAudience: string;
  now?: () => Date;
}

export interface RequestApprovalResult {
  approval: ApprovalView;
  /** Present when the policy allowed the action outright. */
  token: string | null;
  /** True when an earlier request with the same idempotency key was returned. */
  replayed: boolean;
}

export interface ExecutionView {
  id: string;
  approvalId: string;
  status: 'STARTED' | 'SUCCEEDED' | 'FAILED';
  executor: string;
  result: unknown;
  createdAt: Date;
  completedAt: Date | null;
}

export interface ExecuteResult {
  /** Null for a dry run, which consumes nothing. */
  execution: ExecutionView | null;
  approval: ApprovalView;
  dryRun: boolean;
}

export interface ApprovalFilter {
  status?: ApprovalStatus | null;
  action?: string | null;
  agent?: string | null;
  sessionId?: string | null;
  first?: number | null;
  after?: string | null;
}

export interface AuditFilter {
  approvalId?: string | null;
  type?: string | null;
  actor?: string | null;
  since?: Date | null;
  until?: Date | null;
  first?: number | null;
  after?: string | null;
}

const SYSTEM_ACTOR = 'system:countersign';
const VERIFY_PAGE = 10_000;
const VERIFY_COLUMNS = [
  'id',
  'tenant',
  'seq',
  'type',
  'approval_id',
  'actor',
  'previous_status',
  'new_status',
  'details',
  'occurred_at',
  'previous_hash',
  'hash',
] as const;
const VERIFY_SQL = `select ${VERIFY_COLUMNS.join(', ')} from audit_event where tenant = ? and seq > ? order by seq limit ?`;

/** An approval read as plain data (see findData): every field approvalView reads, no collections. */
type ApprovalRow = Omit<Approval, 'decisions' | 'decisionToken'>;
/** A vote read as plain data: its approval is the approval's id. */
type VoteRow = Omit<Vote, 'approval'> & { approval: string };

const voteViews = (approval: Approval): VoteView[] =>
  approval.decisions.isInitialized()
    ? approval.decisions.getItems().map((vote) => ({
        approver: vote.approver,
        decision: vote.decision,
        comment: vote.comment,
        decidedAt: vote.createdAt,
      }))
    : [];

const executionView = (execution: Execution): ExecutionView => ({
  id: execution.id,
  approvalId: execution.approvalId,
  status: execution.status,
  executor: execution.executor,
  result: execution.result,
  createdAt: execution.createdAt,
  completedAt: execution.completedAt,
});

function toPolicySettings(settings: TenantSettings): TenantPolicySettings {
  const policy: TenantPolicySettings = { allowlist: settings.allowlist, denylist: settings.denylist };
  if (settings.threshold !== null) policy.threshold = settings.threshold;
  if (settings.requestTtlSeconds !== null) policy.request_ttl_seconds = settings.requestTtlSeconds;
  if (settings.tokenTtlSeconds !== null) policy.token_ttl_seconds = settings.tokenTtlSeconds;
  return policy;
}

/**
 * The approval gate: evaluates requests against the policy, records votes, issues and redeems
 * decision tokens, and audits every state change in the transaction that makes it.
 * Transports call it with a verified {@link Caller}; it knows nothing of GraphQL.
 */
export class Gate {
  readonly keys: KeyRing;
  private readonly orm: MikroORM;
  private readonly evaluator: PolicyEvaluator;
  private readonly publisher: ChangePublisher;
  private readonly committer: Committer;
  private readonly now: () => Date;
  private keySet: { version: number; resolve: JWTVerifyGetKey };
  /** Resolves verification keys from the ring as it is now, rebuilt only when the ring changes. */
  private readonly verificationKeys: JWTVerifyGetKey = (protectedHeader, token) => {
    if (this.keySet.version !== this.keys.version) {
      this.keySet = { version: this.keys.version, resolve: createLocalJWKSet(this.keys.jwks(this.now())) };
    }
    return this.keySet.resolve(protectedHeader, token);
  };

  private constructor(options: GateOptions, keys: KeyRing) {
    this.orm = options.orm;
    this.evaluator = options.evaluator;
    this.publisher = options.publisher;
    this.issuer = options.issuer;
    this.tokenAudience = options.tokenAudience;
    this.now = options.now ?? (() => new Date());
    this.keys = keys;
    this.committer = new Committer(this.orm, new AuditLog());
    this.keySet = { version: keys.version, resolve: createLocalJWKSet(keys.jwks(this.now())) };
  }

  readonly issuer: string;
  readonly tokenAudience: string;

  /** Opens the gate: loads signing keys and hands every tenant's stored settings to the policy. */
  static async open(options: GateOptions): Promise<Gate> {
    const gate = new Gate(options, await KeyRing.open(options.orm));
    const stored = await options.orm.em.fork().find(TenantSettings, {});
    options.evaluator.setTenantSettings(Object.fromEntries(stored.map((settings) => [settings.tenant, toPolicySettings(settings)])));
    return gate;
  }

  /** Resolves when every queued write has committed. */
  whenIdle(): Promise<void> {
    return this.committer.whenIdle();
  }

  /** Adds a signing key; the previous one stays published until its tokens expire. */
  async rotateSigningKey(): Promise<string> {
    const key = await this.keys.rotate(this.now());
    return key.kid;
  }

  /** Picks up signing keys rotated by another process; the server calls it periodically. */
  async refreshSigningKeys(): Promise<void> {
    await this.keys.refresh();
  }

  // ---------------------------------------------------------------- request

  async requestApproval(caller: Caller, input: RequestApprovalInput): Promise<RequestApprovalResult> {
    requireRole(caller, 'agent');
    const action = name('action', input.action);
    const resource = optionalText('resource', input.resource);
    const context = contextObject('context', input.context);
    const agent = optionalText('agent', input.agent, 256);
    const sessionId = optionalText('sessionId', input.sessionId, 256);
    const confidence = optionalNumber('confidence', input.confidence, 0, 1);
    const estimatedDurationMinutes = optionalNumber('estimatedDurationMinutes', input.estimatedDurationMinutes, 0, 525_600);
    const requestedPriority = priority(input.priority);
    const source = optionalText('source', input.source, 64);
    const idempotencyKey = optionalText('idempotencyKey', input.idempotencyKey, 256);
    const ttlSeconds = optionalInteger('ttlSeconds', input.ttlSeconds, 1, MAX_TTL_SECONDS);
    const hints = policyToolHints(input.toolHints);
    const hash = contextHash({ tenant: caller.tenant, action, resource, context });

    const decision = this.evaluator.evaluate({
      tenant: caller.tenant,
      requester: { subject: caller.subject, roles: [...caller.roles] },
      agent,
      action,
      resource,
      context,
      confidence,
      estimated_duration_minutes: estimatedDurationMinutes,
      priority: requestedPriority,
      source,
      ...(hints && { tool_hints: hints }),
    });
    const now = this.now();
    const status: ApprovalStatus =
      decision.outcome === 'allow' ? 'APPROVED' : decision.outcome === 'deny' ? 'DENIED' : 'PENDING';
    const lifetime = Math.min(decision.requestTtlSeconds, ttlSeconds ?? MAX_TTL_SECONDS);
    const approval = new Approval({
      tenant: caller.tenant,
      action,
      resource,
      context,
      contextHash: hash,
      agent,
      sessionId,
      requesterSubject: caller.subject,
      confidence,
      estimatedDurationMinutes,
      priority: requestedPriority,
      source,
      idempotencyKey,
      status,
      riskScore: decision.riskScore,
      riskLevel: decision.riskLevel,
      reasons: decision.reasons,
      requiredApprovals: decision.outcome === 'require_approval' ? decision.requiredApprovals : 0,
      approverRoles: decision.outcome === 'require_approval' ? decision.approverRoles : [],
      escalated: decision.escalated,
      expiresAt: new Date(now.getTime() + lifetime * 1000),
      tokenTtlSeconds: decision.tokenTtlSeconds,
      policyRevision: decision.policyRevision,
    });
    approval.createdAt = now;
    approval.updatedAt = now;
    // Signing needs no lock: do it before queueing so concurrent requests sign in parallel.
    if (status === 'APPROVED') {
      approval.decidedAt = now;
      // Announced, so that a batch starting while this request signs waits for it (group commit).
      const arrived = this.committer.expect();
      try {
        await this.issueToken(approval, now);
      } finally {
        arrived();
      }
    }

    return this.committer.run(async (unit) => {
      if (idempotencyKey !== null) {
        const existing = await unit.em.findOne(
          Approval,
          { tenant: caller.tenant, requesterSubject: caller.subject, idempotencyKey },
          { populate: ['decisions', 'decisionToken'] },
        );
        if (existing) {
          return { approval: this.view(existing, caller), token: this.tokenFor(existing, caller), replayed: true };
        }
      }
      // A new request is only inserted here: written at once, past the unit of work (see insertNew).
      await insertNew(unit.em, approval);
      await unit.audit({
        tenant: caller.tenant,
        type: 'requested',
        approvalId: approval.id,
        actor: caller.subject,
        previousStatus: null,
        newStatus: status,
        details: requestDetails(decision, hash),
        occurredAt: now,
      });
      if (status === 'DENIED') {
        await this.auditStatus(unit, approval, 'denied', SYSTEM_ACTOR, null, now, { reasons: decision.reasons });
      }
      if (status === 'APPROVED') {
        await this.auditStatus(unit, approval, 'token_issued', SYSTEM_ACTOR, status, now, {
          jti: approval.tokenJti,
          expiresAt: approval.tokenExpiresAt?.toISOString(),
        });
      }
      const view = this.view(approval, caller, []);
      unit.afterCommit(() =>
        this.publish({
          approval: view,
          previousStatus: null,
          kind: status === 'PENDING' ? 'requested' : status === 'DENIED' ? 'denied' : 'approved',
        }),
      );
      return { approval: view, token: status === 'APPROVED' ? approval.decisionToken : null, replayed: false };
    });
  }

  // ---------------------------------------------------------------- decide

  async decide(caller: Caller, input: DecideInput): Promise<ApprovalView> {
    requireRole(caller, 'approver', 'admin');
    const approvalId = optionalText('approvalId', input.approvalId, 64) ?? '';
    if (input.decision !== 'APPROVE' && input.decision !== 'REJECT') {
      throw new InvalidInputError('decision', 'must be APPROVE or REJECT');
    }
    const comment = optionalText('comment', input.comment, 4096);
    const result = await this.committer.run(async (unit) => {
      const approval = await this.loadForUpdate(unit.em, caller, approvalId);
      const now = this.now();
      if (approval.status === 'PENDING' && approval.expiresAt <= now) {
        // The vote is refused, and the request's expiry, which the vote revealed, is recorded.
        return unit.refuse(new ExpiredError(approval.expiresAt), (record) => this.expireJob(record, approval.tenant, approval.id));
      }
      // Requests the policy decided outright (allowed or denied) need no votes (requiredApprovals 0):
      // they are closed, which is what a late voter must hear, not that the request is malformed.
      if (approval.status !== 'PENDING' && approval.status !== 'EXPIRED') {
        throw AlreadyDecidedError.notPending(approval.status);
      }
      const outcome = applyVote(
        {
          status: approval.status,
          requesterSubject: approval.requesterSubject,
          requiredApprovals: approval.requiredApprovals,
          approverRoles: approval.approverRoles,
          expiresAt: approval.expiresAt,
          decisions: approval.decisions.getItems(),
        },
        { subject: caller.subject, roles: caller.roles },
        input.decision,
        now,
      );
      const previousStatus = approval.status;
      const vote = new Vote(ref(approval), caller.subject, input.decision, comment);
      vote.createdAt = now;
      approval.decisions.add(vote);
      unit.em.persist(vote);
      approval.updatedAt = now;
      await unit.audit({
        tenant: approval.tenant,
        type: 'decided',
        approvalId: approval.id,
        actor: caller.subject,
        previousStatus,
        newStatus: outcome.nextStatus,
        details: { decision: input.decision, comment, approvals: outcome.approvalsCount, remaining: outcome.remainingApprovals },
        occurredAt: now,
      });
      if (outcome.nextStatus === 'APPROVED') {
        approval.status = 'APPROVED';
        approval.decidedAt = now;
        await this.issueToken(approval, now);
        await this.auditStatus(unit, approval, 'approved', caller.subject, previousStatus, now, {
          approvers: approval.decisions.getItems().map((item) => item.approver),
        });
        await this.auditStatus(unit, approval, 'token_issued', SYSTEM_ACTOR, 'APPROVED', now, {
          jti: approval.tokenJti,
          expiresAt: approval.tokenExpiresAt?.toISOString(),
        });
      } else if (outcome.nextStatus === 'REJECTED') {
        approval.status = 'REJECTED';
        approval.decidedAt = now;
        await this.auditStatus(unit, approval, 'rejected', caller.subject, previousStatus, now, { comment });
      }
      const kind = outcome.nextStatus === 'APPROVED' ? 'approved' : outcome.nextStatus === 'REJECTED' ? 'rejected' : 'voted';
      const view = this.view(approval, null);
      const tokenForRequester = approval.decisionToken;
      unit.afterCommit(() =>
        this.publish({ approval: { ...view, decisionToken: kind === 'approved' ? tokenForRequester : null }, previousStatus, kind }),
      );
      return view;
    });
    return result;
  }

  // ---------------------------------------------------------------- execute

  async execute(caller: Caller, input: ExecuteInput): Promise<ExecuteResult> {
    requireRole(caller, 'agent');
    if (typeof input.token !== 'string' || input.token.length === 0 || input.token.length > 8192) {
      throw new InvalidInputError('token', 'is required');
    }
    const action = name('action', input.action);
    const resource = optionalText('resource', input.resource);
    const context = contextObject('context', input.context);
    const dryRun = input.dryRun === true;
    if (input.outcome !== undefined && input.outcome !== null && input.outcome !== 'SUCCEEDED' && input.outcome !== 'FAILED') {
      throw new InvalidInputError('outcome', 'must be SUCCEEDED or FAILED');
    }
    // Checked before anything is written: a result that cannot be audited must not consume the token.
    const outcomeResult = jsonValue('result', input.result);
    const now = this.now();

    let claims: VerifiedDecision;
    try {
      claims = await verifyDecisionToken(input.token, {
        keys: this.verificationKeys,
        issuer: this.issuer,
        audience: this.tokenAudience,
        now,
      });
      if (claims.tenant !== caller.tenant) throw new TokenInvalidError('claims');
    } catch (error) {
      if (!(error instanceof CountersignError)) throw error;
      return this.refuse(caller, null, error, now, { stage: 'verification' });
    }
    const presentedHash = contextHash({ tenant: caller.tenant, action, resource, context });
    if (presentedHash !== claims.contextHash || action !== claims.action) {
      return this.refuse(caller, claims.approvalId, new ContextMismatchError(claims.contextHash, presentedHash), now, {
        jti: claims.jti,
        presentedAction: action,
      });
    }

    return this.committer.run(async (unit) => {
      const approval = await unit.em.findOne(
        Approval,
        { id: claims.approvalId, tenant: caller.tenant },
        { populate: ['decisions'] },
      );
      if (!approval || approval.tokenJti !== claims.jti) {
        return this.refusal(unit, caller, claims.approvalId, new TokenInvalidError('claims'), now, { jti: claims.jti });
      }
      const consumed = approval.status === 'EXECUTED' || approval.status === 'FAILED' ||
        (await unit.em.count(Execution, { tokenJti: claims.jti })) > 0;
      if (consumed) {
        return this.refusal(unit, caller, approval.id, new TokenReplayedError(claims.jti), now, { jti: claims.jti });
      }
      if (!canExecute(approval.status)) {
        return this.refusal(unit, caller, approval.id, new TokenInvalidError('not_approved'), now, { status: approval.status });
      }
      if (dryRun) return { execution: null, approval: this.view(approval, caller), dryRun: true };

      const previousStatus = approval.status;
      const execution = new Execution(caller.tenant, approval.id, claims.jti, caller.subject);
      execution.createdAt = now;
      unit.em.persist(execution);
      approval.status = 'EXECUTED';
      approval.updatedAt = now;
      await this.auditStatus(unit, approval, 'executed', caller.subject, previousStatus, now, {
        executionId: execution.id,
        jti: claims.jti,
      });
      if (input.outcome) await this.complete(unit, approval, execution, input.outcome, outcomeResult, caller, now);
      const view = this.view(approval, caller);
      unit.afterCommit(() => this.publish({ approval: { ...view, decisionToken: null }, previousStatus, kind: 'executed' }));
      return { execution: executionView(execution), approval: view, dryRun: false };
    });
  }

  async completeExecution(caller: Caller, input: CompleteExecutionInput): Promise<ExecuteResult> {
    requireRole(caller, 'agent');
    const executionId = optionalText('executionId', input.executionId, 64) ?? '';
    if (input.outcome !== 'SUCCEEDED' && input.outcome !== 'FAILED') {
      throw new InvalidInputError('outcome', 'must be SUCCEEDED or FAILED');
    }
    const outcomeResult = jsonValue('result', input.result);
    return this.committer.run(async (unit) => {
      const execution = await unit.em.findOne(Execution, { id: executionId, tenant: caller.tenant });
      if (!execution) throw new NotFoundError('Execution', executionId);
      if (execution.executor !== caller.subject) throw new ForbiddenError(undefined, 'Only the executor may report the outcome.');
      if (execution.status !== 'STARTED') throw new AlreadyDecidedError({ reason: 'not_pending', status: execution.status });
      const approval = await unit.em.findOneOrFail(Approval, { id: execution.approvalId }, { populate: ['decisions'] });
      const now = this.now();
      const previousStatus = approval.status;
      await this.complete(unit, approval, execution, input.outcome, outcomeResult, caller, now);
      const view = this.view(approval, caller);
      unit.afterCommit(() => this.publish({ approval: { ...view, decisionToken: null }, previousStatus, kind: 'completed' }));
      return { execution: executionView(execution), approval: view, dryRun: false };
    });
  }

  // ---------------------------------------------------------------- reads

  async approval(caller: Caller, id: string): Promise<ApprovalView> {
    const em = this.orm.em.fork();
    const approval = await em.findOne(Approval, { id, tenant: caller.tenant }, { populate: ['decisions', 'decisionToken'] });
    if (!approval || !this.canRead(caller, approval)) throw new NotFoundError('Approval', id);
    if (approval.status === 'PENDING' && approval.expiresAt <= this.now()) {
      await this.expireNow(caller.tenant, approval.id);
      return this.approval(caller, id);
    }
    return this.view(approval, caller);
  }

  async approvals(caller: Caller, filter: ApprovalFilter): Promise<Page<ApprovalView>> {
    const limit = pageSize(filter.first);
    const after = decodeCursor(filter.after, 2);
    // Expiry on access, before the query: a lapsed request must not match a PENDING filter (nor
    // miss an EXPIRED one), and its expiry is audited like any other.
    await this.expireLapsed({ tenant: caller.tenant });
    const where: FilterQuery<Approval> = { tenant: caller.tenant };
    if (filter.status) where.status = filter.status;
    if (filter.action) where.action = filter.action;
    if (filter.agent) where.agent = filter.agent;
    if (filter.sessionId) where.sessionId = filter.sessionId;
    if (!hasRole(caller, 'approver', 'admin', 'auditor')) where.requesterSubject = caller.subject;
    if (after) {
      const [createdAt, id] = after as [number, string];
      where.$or = [{ createdAt: { $lt: new Date(createdAt) } }, { createdAt: new Date(createdAt), id: { $lt: id } }];
    }
    // Plain rows rather than entities, and the votes by a second query on their index: a listing
    // only turns rows into views. Populating the votes in one joined query made SQLite group every
    // matching approval (65 ms at 10,000 pending), and hydrating entities took most of the rest.
    const em = this.orm.em.fork();
    const rows = (await findData(em, Approval, where, {
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      limit: limit + 1,
    })) as ApprovalRow[];
    const now = this.now();
    const page = toPage(rows, limit, (row) => encodeCursor([row.createdAt.getTime(), row.id]));
    const votes = await this.votesOf(em, page.items.map(({ node }) => node.id));
    return {
      ...page,
      items: page.items.map(({ node, cursor }) => {
        // As this.view(node, null): a listing shows no decision token.
        const view = approvalView(node as Approval, votes.get(node.id) ?? [], null);
        // Expiry on access: a listing never shows a lapsed request as still pending.
        if (view.status === 'PENDING' && view.expiresAt <= now) view.status = 'EXPIRED';
        return { node: view, cursor };
      }),
    };
  }

  /** The votes on these approvals, in the order they were cast (as `Approval.decisions` orders them). */
  private async votesOf(em: EntityManager, approvalIds: string[]): Promise<Map<string, VoteView[]>> {
    const byApproval = new Map<string, VoteView[]>();
    if (approvalIds.length === 0) return byApproval;
    const rows = await findData(em, Vote, { approval: { $in: approvalIds } }, { orderBy: [{ createdAt: 'asc' }] });
    for (const vote of rows as VoteRow[]) {
      const views = byApproval.get(vote.approval) ?? [];
      views.push({ approver: vote.approver, decision: vote.decision, comment: vote.comment, decidedAt: vote.createdAt });
      byApproval.set(vote.approval, views);
    }
    return byApproval;
  }

  async auditEvents(caller: Caller, filter: AuditFilter): Promise<Page<AuditEvent>> {
    requireRole(caller, 'auditor', 'admin');
    const limit = pageSize(filter.first);
    const after = decodeCursor(filter.after, 1);
    const where: FilterQuery<AuditEvent> = { tenant: caller.tenant };
    if (filter.approvalId) where.approvalId = filter.approvalId;
    if (filter.type) where.type = filter.type;
    if (filter.actor) where.actor = filter.actor;
    if (filter.since || filter.until) {
      where.occurredAt = { ...(filter.since && { $gte: filter.since }), ...(filter.until && { $lt: filter.until }) };
    }
    if (after) where.seq = { $gt: after[0] as number };
    const rows = await this.orm.em.fork().find(AuditEvent, where, { orderBy: { seq: 'asc' }, limit: limit + 1 });
    return toPage(rows, limit, (row) => encodeCursor([row.seq]));
  }

  /** Walks the caller's tenant's whole chain and reports the first broken link. */
  async verifyAuditChain(caller: Caller): Promise<ChainVerification> {
    requireRole(caller, 'auditor', 'admin');
    await this.committer.whenIdle();
    let previousHash: string | undefined;
    let lastSeq = 0;
    let checked = 0;
    for (;;) {
      const events = await this.chainPage(caller.tenant, lastSeq);
      if (events.length === 0) return { ok: true, checked };
      if (checked === 0 && events[0] && events[0].seq !== 1) {
        return { ok: false, checked: 0, brokenAt: { seq: events[0].seq, id: events[0].id, reason: 'missing_predecessor' } };
      }
      if (lastSeq > 0 && events[0] && events[0].seq !== lastSeq + 1) {
        return { ok: false, checked, brokenAt: { seq: events[0].seq, id: events[0].id, reason: 'missing_predecessor' } };
      }
      const result = verifyChain(events, previousHash);
      if (!result.ok) return { ...result, checked: checked + result.checked };
      checked += result.checked;
      const last = events.at(-1) as AuditChainEvent;
      previousHash = last.hash;
      lastSeq = last.seq;
    }
  }

  /**
   * The next page of a tenant's chain after `afterSeq`. On better-sqlite3 the rows come from a
   * prepared statement as arrays, skipping MikroORM's query building and a keyed object per row:
   * at a million events those were a third of the verification's time.
   */
  private async chainPage(tenant: string, afterSeq: number): Promise<AuditChainEvent[]> {
    const values = [tenant, afterSeq, VERIFY_PAGE];
    const rows = await selectRawRows(this.orm.em, VERIFY_SQL, values);
    if (rows) return rows.map(chainEvent);
    const objects = await this.orm.em.getConnection().execute<Record<string, unknown>[]>(VERIFY_SQL, values);
    return objects.map((row: Record<string, unknown>) => chainEvent(VERIFY_COLUMNS.map((column) => row[column])));
  }

  async tenantSettings(caller: Caller): Promise<TenantSettingsView> {
    requireRole(caller, 'admin', 'approver', 'auditor');
    return tenantSettingsView(caller.tenant, await this.orm.em.fork().findOne(TenantSettings, { tenant: caller.tenant }));
  }

  async updateTenantSettings(caller: Caller, input: UpdateTenantSettingsInput): Promise<TenantSettingsView> {
    requireRole(caller, 'admin');
    const threshold = optionalNumber('threshold', input.threshold, 0, 1);
    // Left out: unchanged; explicit null: the policy default, which for both lists is empty.
    const allowlist = input.allowlist === undefined ? undefined : input.allowlist === null ? [] : nameList('allowlist', input.allowlist);
    const denylist = input.denylist === undefined ? undefined : input.denylist === null ? [] : nameList('denylist', input.denylist);
    const requestTtlSeconds = optionalInteger('requestTtlSeconds', input.requestTtlSeconds, 1, MAX_TTL_SECONDS);
    const tokenTtlSeconds = optionalInteger('tokenTtlSeconds', input.tokenTtlSeconds, 1, MAX_TTL_SECONDS);
    return this.committer.run(async (unit) => {
      const now = this.now();
      const settings = (await unit.em.findOne(TenantSettings, { tenant: caller.tenant })) ?? new TenantSettings(caller.tenant);
      const before = tenantSettingsView(caller.tenant, settings);
      if (input.threshold !== undefined) settings.threshold = threshold;
      if (allowlist !== undefined) settings.allowlist = allowlist;
      if (denylist !== undefined) settings.denylist = denylist;
      if (input.requestTtlSeconds !== undefined) settings.requestTtlSeconds = requestTtlSeconds;
      if (input.tokenTtlSeconds !== undefined) settings.tokenTtlSeconds = tokenTtlSeconds;
      settings.updatedAt = now;
      settings.updatedBy = caller.subject;
      unit.em.persist(settings);
      const after = tenantSettingsView(caller.tenant, settings);
      await unit.audit({
        tenant: caller.tenant,
        type: 'settings_changed',
        approvalId: null,
        actor: caller.subject,
        previousStatus: null,
        newStatus: null,
        details: { before: { ...before, updatedAt: undefined }, after: { ...after, updatedAt: undefined } },
        occurredAt: now,
      });
      unit.afterCommit(() => this.evaluator.setTenant(caller.tenant, toPolicySettings(settings)));
      return after;
    });
  }

  /** Marks every lapsed pending request EXPIRED (the periodic sweep); returns how many. */
  expireDue(limit = 500): Promise<number> {
    return this.expireLapsed({}, limit);
  }

  /**
   * Marks lapsed pending requests EXPIRED, each audited; queued together, the committer groups
   * them into one commit. `scope` narrows the search, e.g. to one tenant before a listing.
   */
  private async expireLapsed(scope: FilterQuery<Approval>, limit = 500): Promise<number> {
    const due = await this.orm.em
      .fork()
      .find(Approval, { ...(scope as object), status: 'PENDING', expiresAt: { $lte: this.now() } }, { fields: ['id', 'tenant'], limit });
    await Promise.all(due.map(({ id, tenant }) => this.expireNow(tenant, id)));
    return due.length;
  }

  /** Whether this caller may read the decision token of an approval: only its requester may. */
  private tokenFor(approval: Approval, caller: Caller | null): string | null {
    return caller !== null && caller.subject === approval.requesterSubject && approval.status === 'APPROVED'
      ? (approval.decisionToken ?? null)
      : null;
  }

  private view(approval: Approval, caller: Caller | null, votes: VoteView[] = voteViews(approval)): ApprovalView {
    return approvalView(approval, votes, this.tokenFor(approval, caller));
  }

  private canRead(caller: Caller, approval: Approval): boolean {
    return hasRole(caller, 'approver', 'admin', 'auditor') || approval.requesterSubject === caller.subject;
  }

  private async loadForUpdate(em: EntityManager, caller: Caller, id: string): Promise<Approval> {
    const approval = await em.findOne(Approval, { id, tenant: caller.tenant }, { populate: ['decisions'] });
    if (!approval) throw new NotFoundError('Approval', id);
    return approval;
  }

  private async issueToken(approval: Approval, now: Date): Promise<void> {
    const expiresAt = new Date(Math.min(now.getTime() + approval.tokenTtlSeconds * 1000, approval.expiresAt.getTime()));
    const jti = randomUUID();
    approval.decisionToken = await signDecisionToken(this.keys.signingKeyFor(expiresAt), {
      approvalId: approval.id,
      tenant: approval.tenant,
      action: approval.action,
      contextHash: approval.contextHash,
      policyRevision: approval.policyRevision,
      issuer: this.issuer,
      audience: this.tokenAudience,
      jti,
      issuedAt: now,
      expiresAt,
    });
    approval.tokenJti = jti;
    approval.tokenExpiresAt = expiresAt;
  }

  private async complete(
    unit: UnitOfWork,
    approval: Approval,
    execution: Execution,
    outcome: 'SUCCEEDED' | 'FAILED',
    result: unknown,
    caller: Caller,
    now: Date,
  ): Promise<void> {
    execution.status = outcome;
    execution.result = result;
    execution.completedAt = now;
    execution.updatedAt = now;
    const previousStatus = approval.status;
    if (outcome === 'FAILED') {
      approval.status = 'FAILED';
      approval.updatedAt = now;
    }
    await this.auditStatus(unit, approval, 'execution_completed', caller.subject, previousStatus, now, {
      executionId: execution.id,
      outcome,
      result,
    });
  }

  private async expire(unit: UnitOfWork, approval: Approval, now: Date): Promise<void> {
    approval.status = 'EXPIRED';
    approval.updatedAt = now;
    await this.auditStatus(unit, approval, 'expired', SYSTEM_ACTOR, 'PENDING', now, { expiresAt: approval.expiresAt.toISOString() });
    const view = this.view(approval, null);
    unit.afterCommit(() => this.publish({ approval: view, previousStatus: 'PENDING', kind: 'expired' }));
  }

  private expireNow(tenant: string, id: string): Promise<void> {
    return this.committer.run((unit) => this.expireJob(unit, tenant, id));
  }

  /** Marks the request EXPIRED if it is still pending and has lapsed. */
  private async expireJob(unit: UnitOfWork, tenant: string, id: string): Promise<void> {
    const approval = await unit.em.findOne(Approval, { id, tenant }, { populate: ['decisions'] });
    if (approval?.status === 'PENDING' && approval.expiresAt <= this.now()) await this.expire(unit, approval, this.now());
  }

  private auditStatus(
    unit: UnitOfWork,
    approval: Approval,
    type: string,
    actor: string,
    previousStatus: string | null,
    occurredAt: Date,
    details: Record<string, unknown>,
  ): Promise<void> {
    return unit.audit({
      tenant: approval.tenant,
      type,
      approvalId: approval.id,
      actor,
      previousStatus,
      newStatus: approval.status,
      details,
      occurredAt,
    });
  }

  /** Records a refused execution in the audit chain, then reports it to the caller. */
  private async refuse(
    caller: Caller,
    approvalId: string | null,
    error: CountersignError,
    now: Date,
    details: Record<string, unknown>,
  ): Promise<never> {
    await this.committer.run(async (unit) => this.refusal(unit, caller, approvalId, error, now, details));
    throw error;
  }

  /** Refuses the job: whatever it wrote is rolled back, and the refusal alone is audited. */
  private refusal(
    unit: UnitOfWork,
    caller: Caller,
    approvalId: string | null,
    error: CountersignError,
    now: Date,
    details: Record<string, unknown>,
  ): Refusal {
    return unit.refuse(error, (record) => this.auditRefusal(record, caller, approvalId, error, now, details));
  }

  private async auditRefusal(
    unit: UnitOfWork,
    caller: Caller,
    approvalId: string | null,
    error: CountersignError,
    now: Date,
    details: Record<string, unknown>,
  ): Promise<void> {
    const type = error.code === 'TOKEN_REPLAYED' ? 'replay_refused' : error.code === 'CONTEXT_MISMATCH' ? 'context_mismatch' : 'token_refused';
    await unit.audit({
      tenant: caller.tenant,
      type,
      approvalId,
      actor: caller.subject,
      previousStatus: null,
      newStatus: null,
      details: { code: error.code, message: error.message, ...details },
      occurredAt: now,
    });
  }

  private publish(change: ApprovalChange): void {
    this.publisher.publish(change);
  }
}

function requestDetails(decision: PolicyDecision, hash: string): Record<string, unknown> {
  return {
    outcome: decision.outcome,
    riskScore: decision.riskScore,
    riskLevel: decision.riskLevel,
    ruleIds: decision.reasons.map((reason) => reason.ruleId),
    requiredApprovals: decision.requiredApprovals,
    approverRoles: decision.approverRoles,
    policyRevision: decision.policyRevision,
    failSafe: decision.failSafe,
    contextHash: hash,
  };
}

/** A stored event from its columns, in {@link VERIFY_COLUMNS} order. */
function chainEvent(row: unknown[]): AuditChainEvent {
  const [id, tenant, seq, type, approvalId, actor, previousStatus, newStatus, details, occurredAt, previousHash, hash] = row;
  return {
    id: id as string,
    tenant: tenant as string,
    seq: Number(seq),
    type: type as string,
    approvalId: (approvalId as string | null) ?? null,
    actor: actor as string,
    previousStatus: (previousStatus as string | null) ?? null,
    newStatus: (newStatus as string | null) ?? null,
    details: typeof details === 'string' ? JSON.parse(details) : details,
    occurredAt: occurredAt instanceof Date ? occurredAt : new Date(occurredAt as number | string),
    previousHash: previousHash as string,
    hash: hash as string,
  };
}
