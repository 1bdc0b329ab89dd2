import type { AuditVerification, StateMismatch } from '../../app/audit-queries.js';
import type { CheckpointComparison, SignedCheckpointView } from '../../app/checkpoints.js';
import type { AuditEvent } from '../../db/entities/audit-event.entity.js';
import { connection } from './approval.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';

const AuditEventRef = builder.objectRef<AuditEvent>('AuditEvent').implement({
  description: 'One link of the tenant\'s tamper-evident audit chain.',
  fields: (t) => ({
    id: t.exposeID('id'),
    seq: t.exposeInt('seq'),
    type: t.exposeString('type'),
    approvalId: t.exposeID('approvalId', { nullable: true }),
    actor: t.exposeString('actor'),
    previousStatus: t.exposeString('previousStatus', { nullable: true }),
    newStatus: t.exposeString('newStatus', { nullable: true }),
    details: t.expose('details', { type: 'JSON' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    previousHash: t.exposeString('previousHash'),
    hash: t.exposeString('hash'),
  }),
});

const AuditEventConnection = connection<AuditEvent>('AuditEvent', AuditEventRef);

const ChainBreakRef = builder
  .objectRef<{ seq: number; id: string; reason: string }>('AuditChainBreak')
  .implement({
    fields: (t) => ({ seq: t.exposeInt('seq'), id: t.exposeID('id'), reason: t.exposeString('reason') }),
  });

const CheckpointComparisonRef = builder.objectRef<CheckpointComparison>('AuditCheckpointComparison').implement({
  description: 'The chain against a signed checkpoint kept elsewhere.',
  fields: (t) => ({
    size: t.exposeInt('size', { description: "The checkpoint's chain size." }),
    headHash: t.exposeString('headHash', { description: "The checkpoint's head hash (hex)." }),
    time: t.expose('time', { type: 'DateTime' }),
    chainSize: t.exposeInt('chainSize', { description: 'Events in the chain now.' }),
    hashAtSize: t.exposeString('hashAtSize', { nullable: true, description: 'The hash of event `size` now; null when the chain is shorter.' }),
    problem: t.exposeString('problem', {
      nullable: true,
      description: '`truncated` (the chain is shorter than the checkpoint) or `rehashed` (event `size` no longer has its hash); null when consistent.',
    }),
  }),
});

const StateMismatchRef = builder.objectRef<StateMismatch>('AuditStateMismatch').implement({
  description: "An approval whose stored status is not the status its audit trail ends in.",
  fields: (t) => ({
    approvalId: t.exposeID('approvalId'),
    status: t.exposeString('status', { nullable: true, description: 'As stored; null when the approval is gone but its trail remains.' }),
    trailStatus: t.exposeString('trailStatus', { nullable: true, description: 'The status its trail ends in; null when it has no trail.' }),
  }),
});

const ChainVerificationRef = builder.objectRef<AuditVerification>('AuditChainVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok', { description: 'The links are intact, the chain agrees with the checkpoint (if given), and state agrees with the trail.' }),
    chainOk: t.boolean({ description: "The chain's links alone are intact.", resolve: (result) => result.chain.ok }),
    checked: t.int({ description: 'Events verified before the first break, or all of them.', resolve: (result) => result.chain.checked }),
    brokenAt: t.field({ type: ChainBreakRef, nullable: true, resolve: (result) => (result.chain.ok ? null : result.chain.brokenAt) }),
    checkpoint: t.field({ type: CheckpointComparisonRef, nullable: true, resolve: (result) => result.checkpoint }),
    stateMismatches: t.field({
      type: [StateMismatchRef],
      description: 'Approvals whose status differs from their trail (the first 100).',
      resolve: (result) => result.stateMismatches,
    }),
    stateMismatchCount: t.exposeInt('stateMismatchCount'),
  }),
});

const CheckpointRef = builder.objectRef<SignedCheckpointView>('AuditCheckpoint').implement({
  description:
    "A signed checkpoint of the tenant's audit chain: a C2SP tlog-checkpoint in a signed note, signed with the decision-token key " +
    '(key name `countersign-audit/<kid>`, the kid of the published JWKS). Keep it elsewhere; verifyAuditChain(checkpoint:) compares with it.',
  fields: (t) => ({
    tenant: t.exposeString('tenant'),
    origin: t.exposeString('origin'),
    size: t.exposeInt('size'),
    headHash: t.exposeString('headHash'),
    time: t.expose('time', { type: 'DateTime' }),
    kid: t.exposeString('kid'),
    keyName: t.exposeString('keyName'),
    note: t.exposeString('note', { description: 'The signed note, as served at GET /audit/checkpoint.' }),
  }),
});

builder.queryFields((t) => ({
  auditEvents: t.field({
    type: AuditEventConnection,
    errors: {},
    args: {
      approvalId: t.arg.id(),
      type: t.arg.string(),
      actor: t.arg.string(),
      since: t.arg({ type: 'DateTime' }),
      until: t.arg({ type: 'DateTime' }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (_root, args, context) =>
      context.gate.auditEvents(callerOf(context), { ...args, approvalId: args.approvalId === null || args.approvalId === undefined ? null : String(args.approvalId) }),
  }),
  verifyAuditChain: t.field({
    type: ChainVerificationRef,
    errors: {},
    args: {
      checkpoint: t.arg.string({ description: 'A signed checkpoint taken earlier (auditCheckpoint.note), to detect truncation and re-hashing.' }),
    },
    resolve: (_root, args, context) => context.gate.verifyAudit(callerOf(context), { checkpoint: args.checkpoint ?? null }),
  }),
  auditCheckpoint: t.field({
    type: CheckpointRef,
    errors: {},
    resolve: (_root, _args, context) => context.gate.auditCheckpoint(callerOf(context)),
  }),
}));
