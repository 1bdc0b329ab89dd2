import type { ObjectRef } from '@pothos/core';
import type { Page } from '../../app/pagination.js';
import { remainingApprovals, type ApprovalView, type VoteView } from '../../app/views.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';
import { AlreadyDecidedError, ExpiredError, NotFoundError, RateLimitedError, SelfApprovalError } from '../../domain/errors.js';
import { ApprovalStatusEnum, DecisionEnum, PriorityEnum } from './enums.js';


export const ReasonRef = builder.objectRef<{ ruleId: string; message: string; fields?: string[] }>('Reason').implement({
  description: 'Why the policy decided as it did, with the stable id of the rule.',
  fields: (t) => ({
    ruleId: t.exposeString('ruleId'),
    message: t.exposeString('message'),
    fields: t.stringList({
      description: 'The context keys, as the request spelled them, that this rule rested on (the inbox highlights them).',
      resolve: (reason) => reason.fields ?? [],
    }),
  }),
});

export const ApproverDecisionRef = builder.objectRef<VoteView>('ApproverDecision').implement({
  description: 'One approver\'s recorded decision.',
  fields: (t) => ({
    approver: t.exposeString('approver'),
    decision: t.expose('decision', { type: DecisionEnum }),
    comment: t.exposeString('comment', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime' }),
  }),
});

export const ApprovalRef = builder.objectRef<ApprovalView>('Approval').implement({
  description: 'An approval request, the policy\'s decision on it and its life since.',
  fields: (t) => ({
    id: t.exposeID('id'),
    status: t.expose('status', { type: ApprovalStatusEnum }),
    action: t.exposeString('action'),
    resource: t.exposeString('resource', { nullable: true }),
    context: t.expose('context', { type: 'JSON' }),
    contextHash: t.exposeString('contextHash', { description: 'Lowercase hex SHA-256 of the JCS canonical {tenant, action, resource, context}.' }),
    agent: t.exposeString('agent', { nullable: true }),
    sessionId: t.exposeString('sessionId', { nullable: true }),
    requester: t.exposeString('requester'),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    estimatedDurationMinutes: t.exposeFloat('estimatedDurationMinutes', { nullable: true }),
    priority: t.exposeString('priority', { nullable: true }),
    source: t.exposeString('source', { nullable: true }),
    riskScore: t.exposeInt('riskScore'),
    riskLevel: t.exposeString('riskLevel'),
    reasons: t.expose('reasons', { type: [ReasonRef] }),
    requiredApprovals: t.exposeInt('requiredApprovals'),
    remainingApprovals: t.int({ resolve: (approval) => remainingApprovals(approval) }),
    approverRoles: t.exposeStringList('approverRoles'),
    escalated: t.exposeBoolean('escalated'),
    decisions: t.expose('decisions', { type: [ApproverDecisionRef] }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    tokenExpiresAt: t.expose('tokenExpiresAt', { type: 'DateTime', nullable: true }),
    policyRevision: t.exposeString('policyRevision'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    decisionToken: t.exposeString('decisionToken', {
      nullable: true,
      description: 'The signed decision token; shown only to the requester, once approved.',
    }),
  }),
});

export const PageInfoRef = builder.objectRef<{ hasNextPage: boolean; endCursor: string | null }>('PageInfo').implement({
  fields: (t) => ({ hasNextPage: t.exposeBoolean('hasNextPage'), endCursor: t.exposeString('endCursor', { nullable: true }) }),
});

/** A Relay-style connection type for one node type. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function connection<T>(name: string, node: ObjectRef<any, T>) {
  const edge = builder.objectRef<{ node: T; cursor: string }>(`${name}Edge`).implement({
    fields: (t) => ({ node: t.field({ type: node, resolve: (item) => item.node as never }), cursor: t.exposeString('cursor') }),
  });
  return builder.objectRef<Page<T>>(`${name}Connection`).implement({
    fields: (t) => ({
      edges: t.field({ type: [edge], resolve: (page) => page.items }),
      nodes: t.field({ type: [node], resolve: (page) => page.items.map((item) => item.node) as never }),
      pageInfo: t.field({ type: PageInfoRef, resolve: (page) => page }),
    }),
  });
}

const ApprovalConnection = connection<ApprovalView>('Approval', ApprovalRef);

const RequestApprovalPayload = builder
  .objectRef<{ approval: ApprovalView; token: string | null; replayed: boolean }>('RequestApprovalPayload')
  .implement({
    fields: (t) => ({
      approval: t.field({ type: ApprovalRef, resolve: (payload) => payload.approval }),
      token: t.exposeString('token', {
        nullable: true,
        description: 'The decision token, when the policy allowed the action outright.',
      }),
      replayed: t.exposeBoolean('replayed', { description: 'True when this idempotency key returned an earlier request.' }),
    }),
  });

const ToolHintsInput = builder.inputType('ToolHintsInput', {
  description:
    'An MCP tool\'s annotations, as the caller reports them. Untrusted: the policy lets them raise the risk, never lower it.',
  fields: (t) => ({
    readOnlyHint: t.boolean(),
    destructiveHint: t.boolean(),
    idempotentHint: t.boolean(),
    openWorldHint: t.boolean(),
  }),
});

const RequestApprovalInput = builder.inputType('RequestApprovalInput', {
  fields: (t) => ({
    action: t.string({ required: true, description: 'The action type, e.g. payment or delete_records.' }),
    resource: t.string(),
    context: t.field({ type: 'JSON', required: true, description: 'The exact context the action will run with.' }),
    agent: t.string(),
    sessionId: t.string(),
    confidence: t.float({ description: 'The agent\'s confidence, from 0 to 1.' }),
    estimatedDurationMinutes: t.float(),
    priority: t.field({ type: PriorityEnum }),
    source: t.string({ description: 'Where the request came from, e.g. internal or external.' }),
    idempotencyKey: t.string({ description: 'Repeating a key returns the original request.' }),
    ttlSeconds: t.int({ description: 'Shortens the request\'s lifetime below the policy\'s.' }),
    toolHints: t.field({ type: ToolHintsInput, description: 'The annotations of the MCP tool this action calls, if any.' }),
  }),
});

const DecideInput = builder.inputType('DecideInput', {
  fields: (t) => ({
    approvalId: t.id({ required: true }),
    decision: t.field({ type: DecisionEnum, required: true }),
    comment: t.string(),
  }),
});

builder.queryFields((t) => ({
  approval: t.field({
    type: ApprovalRef,
    errors: { types: [NotFoundError] },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => context.gate.approval(callerOf(context), String(id)),
  }),
  approvals: t.field({
    type: ApprovalConnection,
    errors: {},
    args: {
      status: t.arg({ type: ApprovalStatusEnum }),
      action: t.arg.string(),
      agent: t.arg.string(),
      sessionId: t.arg.string(),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (_root, args, context) => context.gate.approvals(callerOf(context), args),
  }),
}));

builder.mutationFields((t) => ({
  requestApproval: t.field({
    type: RequestApprovalPayload,
    description: 'Asks the policy whether an action may run; stores the request and, if allowed outright, returns a token.',
    errors: { types: [RateLimitedError] },
    args: { input: t.arg({ type: RequestApprovalInput, required: true }) },
    resolve: (_root, { input }, context) => context.gate.requestApproval(callerOf(context), input),
  }),
  decide: t.field({
    type: ApprovalRef,
    description: 'Records an approver\'s decision; N approvals approve, the first rejection rejects.',
    errors: { types: [NotFoundError, AlreadyDecidedError, SelfApprovalError, ExpiredError] },
    args: { input: t.arg({ type: DecideInput, required: true }) },
    resolve: (_root, { input }, context) => context.gate.decide(callerOf(context), { ...input, approvalId: String(input.approvalId) }),
  }),
}));
