import { GraphQLError } from 'graphql';
import { CountersignError } from '../../domain/errors.js';
import { CHANGE_KINDS, type ChangeKind } from '../../domain/transitions.js';
import { canDecide, canRead } from '../../app/access.js';
import { hasRole, type Caller } from '../../app/caller.js';
import type { ApprovalView } from '../../app/views.js';
import type { ChangeStream, CurrentState, StreamedChange } from '../../feed/feed.js';
import { boundedSelect } from './bounded-stream.js';
import { ApprovalRef } from './approval.js';
import { builder } from './builder.js';
import { callerOrGraphQLError, type Context } from './context.js';

const PendingEventKind = builder.enumType('PendingApprovalEventKind', {
  values: {
    CURRENT: { description: 'The request was already pending when the subscription started (only with current: true).' },
    ADDED: { description: 'The request became pending.' },
    UPDATED: { description: 'An approver decided; more approvals are still needed.' },
    REMOVED: { description: 'The request left pending: approved, rejected or expired.' },
  } as const,
});

interface PendingEvent {
  kind: 'CURRENT' | 'ADDED' | 'UPDATED' | 'REMOVED';
  approval: ApprovalView;
}

const PendingEventRef = builder.objectRef<PendingEvent>('PendingApprovalEvent').implement({
  fields: (t) => ({
    kind: t.expose('kind', { type: PendingEventKind }),
    approval: t.field({ type: ApprovalRef, resolve: (event) => event.approval }),
  }),
});

const ApprovalChangeKind = builder.enumType('ApprovalChangeKind', {
  values: {
    current: { description: 'The approval as it stood when the subscription started (only with current: true).' },
    ...(Object.fromEntries(CHANGE_KINDS.map((kind) => [kind, {}])) as Record<ChangeKind, object>),
  } as const,
});

/** A change as one subscriber receives it: the requester's may carry the decision token. */
interface DeliveredChange {
  kind: StreamedChange['kind'];
  previousStatus: StreamedChange['previousStatus'];
  approval: ApprovalView;
}

const ApprovalUpdateRef = builder.objectRef<DeliveredChange>('ApprovalUpdate').implement({
  fields: (t) => ({
    kind: t.expose('kind', { type: ApprovalChangeKind }),
    previousStatus: t.exposeString('previousStatus', { nullable: true }),
    approval: t.field({ type: ApprovalRef, resolve: (change) => change.approval }),
    token: t.string({
      nullable: true,
      description:
        'The decision token, for the requester, on the change that approved the request or reissued its token (or on the current state of an approved one).',
      resolve: (change) =>
        change.kind === 'approved' || change.kind === 'reissued' || (change.kind === 'current' && change.approval.status === 'APPROVED')
          ? change.approval.decisionToken
          : null,
    }),
  }),
});

/**
 * One event per change for every `pendingApprovals` subscriber, so that its selection is executed
 * once for all of them (see shared-execution.ts) rather than once per subscriber.
 */
const pendingEvents = new WeakMap<StreamedChange, PendingEvent | null>();

function pendingEventOf(change: StreamedChange): PendingEvent | null {
  let event = pendingEvents.get(change);
  if (event === undefined) {
    const kind = pendingKind(change);
    pendingEvents.set(change, (event = kind === null ? null : { kind, approval: change.approval }));
  }
  return event;
}

function pendingKind(change: StreamedChange): PendingEvent['kind'] | null {
  if (change.kind === 'current') return change.approval.status === 'PENDING' ? 'CURRENT' : null;
  if (change.kind === 'requested' && change.approval.status === 'PENDING') return 'ADDED';
  if (change.kind === 'voted') return 'UPDATED';
  if (change.previousStatus === 'PENDING' && change.approval.status !== 'PENDING') return 'REMOVED';
  return null;
}

/** Every request of the caller's tenant that is pending now, as `current` changes. */
async function pendingNow(context: Context, caller: Caller): Promise<CurrentState[]> {
  const pending: CurrentState[] = [];
  let after: string | null = null;
  do {
    const page = await context.gate.approvals(caller, { status: 'PENDING', first: 200, after });
    for (const { node } of page.items) pending.push({ approval: node, previousStatus: null, kind: 'current' });
    after = page.hasNextPage ? page.endCursor : null;
  } while (after !== null);
  return pending;
}

/** Runs `prepare` on a live stream; on failure the stream stops listening before the error propagates. */
async function startStream(stream: ChangeStream, prepare: () => Promise<void>): Promise<void> {
  try {
    await prepare();
  } catch (error) {
    await stream.return();
    throw error;
  }
}

const asGraphQLError = (error: unknown): unknown =>
  error instanceof CountersignError ? new GraphQLError(error.message, { extensions: { code: error.code } }) : error;

builder.subscriptionFields((t) => ({
  pendingApprovals: t.field({
    type: PendingEventRef,
    description:
      'Requests the caller may decide, as they become pending, gather votes and leave pending. With current: true, ' +
      'the requests already pending come first (kind CURRENT); an event may then repeat one of them.',
    args: { current: t.arg.boolean({ defaultValue: false }) },
    subscribe: async (_root, { current }, context) => {
      const caller = callerOrGraphQLError(context);
      if (!hasRole(caller, 'approver', 'admin')) {
        throw new GraphQLError('pendingApprovals requires the approver or admin role', { extensions: { code: 'FORBIDDEN' } });
      }
      const stream = context.changes.subscribe(caller.tenant);
      await startStream(stream, async () => {
        if (current) stream.prepend(await pendingNow(context, caller).catch((error: unknown) => Promise.reject(asGraphQLError(error))));
      });
      return boundedSelect(
        stream,
        (change): PendingEvent | null => {
          const event = pendingEventOf(change);
          return event !== null && canDecide(caller, change.approval) ? event : null;
        },
        context.subscriberBufferBytes,
      );
    },
    resolve: (event) => event,
  }),
  approvalUpdated: t.field({
    type: ApprovalUpdateRef,
    description:
      'Every change of one approval, for its requester and those who may decide or audit it. With current: true, ' +
      'the first event is the approval as it stands once the subscription is live (kind current).',
    args: { id: t.arg.id({ required: true }), current: t.arg.boolean({ defaultValue: false }) },
    subscribe: async (_root, { id, current }, context) => {
      const caller = callerOrGraphQLError(context);
      const approvalId = String(id);
      // Listen first, then read: a change committed in between is buffered, not lost.
      const stream = context.changes.subscribe(caller.tenant, { approvalId });
      await startStream(stream, async () => {
        const approval = await context.gate.approval(caller, approvalId).catch((error: unknown) => Promise.reject(asGraphQLError(error)));
        if (!canRead(caller, approval)) {
          throw new GraphQLError(`Only the requester, its approvers, admins and auditors may follow approval ${JSON.stringify(approvalId)}.`, {
            extensions: { code: 'FORBIDDEN' },
          });
        }
        if (current) stream.prepend([{ approval, previousStatus: null, kind: 'current' }]);
      });
      return boundedSelect(
        stream,
        (change): DeliveredChange | null | Promise<DeliveredChange | null> => {
          if (change.approval.id !== approvalId) return null;
          // The feed carries no token: the requester's goes, for the requester alone, into an event of
          // its own (the feed's change object is shared by every other subscriber). Synchronously when
          // this process signed it, so the token leaves in the same turn as the change is published.
          const token = context.gate.tokenOfChange(caller, change);
          if (token === null) return change;
          const withToken = (decisionToken: string | null): DeliveredChange => ({ ...change, approval: { ...change.approval, decisionToken } });
          return token instanceof Promise ? token.then(withToken) : withToken(token);
        },
        context.subscriberBufferBytes,
      );
    },
    resolve: (change) => change,
  }),
}));
