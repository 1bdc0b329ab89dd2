import type { ChainVerification } from '../../domain/audit-chain.js';
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

const ChainVerificationRef = builder.objectRef<ChainVerification>('AuditChainVerification').implement({
  fields: (t) => ({
    ok: t.exposeBoolean('ok'),
    checked: t.exposeInt('checked', { description: 'Events verified before the first break, or all of them.' }),
    brokenAt: t.field({ type: ChainBreakRef, nullable: true, resolve: (result) => (result.ok ? null : result.brokenAt) }),
  }),
});

builder.queryFields((t) => ({
  auditEvents: t.field({
    type: AuditEventConnection,
    errors: { union: { name: 'AuditEventsResult' } },
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
    errors: { union: { name: 'VerifyAuditChainResult' } },
    resolve: (_root, _args, context) => context.gate.verifyAuditChain(callerOf(context)),
  }),
}));
