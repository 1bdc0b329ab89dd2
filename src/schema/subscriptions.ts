import { GraphQLError } from 'graphql';
import { createPubSub, filter, map, pipe } from 'graphql-yoga';
import type { Caller } from '../gate/caller.js';
import { hasRole } from '../gate/caller.js';
import type { ApprovalChange, ChangePublisher } from '../gate/events.js';
import type { ApprovalView } from '../gate/views.js';
import { ApprovalRef } from './approval.js';
import { builder, callerOrGraphQLError } from './builder.js';

/**
 * The in-process pub/sub behind subscriptions, one topic per tenant so that no event can cross
 * tenants. A multi-instance deployment would back the same ChangePublisher seam with a broker.
 */
export class ChangeSubscriptions implements ChangePublisher {
  private readonly pubSub = createPubSub<{ change: [tenant: string, change: ApprovalChange] }>();

  publish(change: ApprovalChange): void {
    this.pubSub.publish('change', change.approval.tenant, change);
  }

  subscribe(tenant: string): AsyncIterable<ApprovalChange> {
    return this.pubSub.subscribe('change', tenant);
  }
}

/** Whether `caller` may decide this approval, and so should hear of it. */
const canDecide = (caller: Caller, approval: ApprovalView): boolean =>
  caller.subject !== approval.requester && approval.approverRoles.some((role) => caller.roles.includes(role));

/** The requester alone sees the decision token. */
const forCaller = (caller: Caller, approval: ApprovalView): ApprovalView =>
  caller.subject === approval.requester ? approval : { ...approval, decisionToken: null };

const PendingEventKind = builder.enumType('PendingApprovalEventKind', {
  values: {
    ADDED: { description: 'The request became pending.' },
    UPDATED: { description: 'An approver decided; more approvals are still needed.' },
    REMOVED: { description: 'The request left pending: approved, rejected or expired.' },
  } as const,
});

interface PendingEvent {
  kind: 'ADDED' | 'UPDATED' | 'REMOVED';
  approval: ApprovalView;
}

const PendingEventRef = builder.objectRef<PendingEvent>('PendingApprovalEvent').implement({
  fields: (t) => ({
    kind: t.expose('kind', { type: PendingEventKind }),
    approval: t.field({ type: ApprovalRef, resolve: (event) => event.approval }),
  }),
});

const ApprovalChangeKind = builder.enumType('ApprovalChangeKind', {
  values: ['requested', 'voted', 'approved', 'rejected', 'denied', 'expired', 'executed', 'completed'] as const,
});

const ApprovalUpdateRef = builder.objectRef<ApprovalChange>('ApprovalUpdate').implement({
  fields: (t) => ({
    kind: t.expose('kind', { type: ApprovalChangeKind }),
    previousStatus: t.exposeString('previousStatus', { nullable: true }),
    approval: t.field({ type: ApprovalRef, resolve: (change) => change.approval }),
    token: t.string({
      nullable: true,
      description: 'The decision token, for the requester, on the change that approved the request.',
      resolve: (change) => (change.kind === 'approved' ? change.approval.decisionToken : null),
    }),
  }),
});

function pendingKind(change: ApprovalChange): PendingEvent['kind'] | null {
  if (change.kind === 'requested' && change.approval.status === 'PENDING') return 'ADDED';
  if (change.kind === 'voted') return 'UPDATED';
  if (change.previousStatus === 'PENDING' && change.approval.status !== 'PENDING') return 'REMOVED';
  return null;
}

builder.subscriptionFields((t) => ({
  pendingApprovals: t.field({
    type: PendingEventRef,
    description: 'Requests the caller may decide, as they become pending, gather votes and leave pending.',
    subscribe: (_root, _args, context) => {
      const caller = callerOrGraphQLError(context);
      if (!hasRole(caller, 'approver', 'admin')) {
        throw new GraphQLError('pendingApprovals requires the approver or admin role', { extensions: { code: 'FORBIDDEN' } });
      }
      return pipe(
        context.changes.subscribe(caller.tenant),
        filter((change: ApprovalChange) => pendingKind(change) !== null && canDecide(caller, change.approval)),
        map((change: ApprovalChange): PendingEvent => ({
          kind: pendingKind(change) as PendingEvent['kind'],
          approval: forCaller(caller, change.approval),
        })),
      );
    },
    resolve: (event) => event,
  }),
  approvalUpdated: t.field({
    type: ApprovalUpdateRef,
    description: 'Every change of one approval, for its requester and those who may decide or audit it.',
    args: { id: t.arg.id({ required: true }) },
    subscribe: async (_root, { id }, context) => {
      const caller = callerOrGraphQLError(context);
      const approval = await context.gate.approval(caller, String(id)).catch(() => null);
      const visible =
        approval !== null &&
        (approval.requester === caller.subject || hasRole(caller, 'admin', 'auditor') || canDecide(caller, approval));
      if (!visible) {
        throw new GraphQLError(`Approval ${JSON.stringify(String(id))} was not found.`, { extensions: { code: 'NOT_FOUND' } });
      }
      return pipe(
        context.changes.subscribe(caller.tenant),
        filter((change: ApprovalChange) => change.approval.id === String(id)),
        map((change: ApprovalChange): ApprovalChange => ({ ...change, approval: forCaller(caller, change.approval) })),
      );
    },
    resolve: (change) => change,
  }),
}));
