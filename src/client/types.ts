/**
 * The SDK's shapes, named for users. Every one is derived from the types GraphQL Code Generator
 * writes from schema.graphql and operations.graphql (generated/graphql.ts), never restated.
 */
import type { RefusedError } from './errors.js';
import type * as Generated from './generated/graphql.js';

/** A member of a result union, without its `__typename`. */
type Member<U, N extends string> = Omit<Extract<U, { __typename: N }>, '__typename'>;

/** Where an approval stands: PENDING, APPROVED, REJECTED, DENIED, EXPIRED, EXECUTED or FAILED. */
export type ApprovalStatus = Generated.ApprovalStatus;

/** Instants are ISO 8601 strings in UTC, as the API sends them. */
export type IsoDateTime = string;

/** An approval request, the policy's decision on it and its life since. */
export type Approval = Generated.ApprovalFieldsFragment;

/** Why the policy decided as it did, with the stable id of the rule. */
export type Reason = Approval['reasons'][number];

/** One approver's recorded decision. */
export type ApproverDecision = Approval['decisions'][number];

/** How urgent a request is; the policy shortens the lifetime of urgent ones. */
export type Priority = Generated.Priority;

/**
 * What an agent asks to do. `context` must be exactly what the action will run with (a JSON
 * object); the decision token is bound to it. A repeated `idempotencyKey` returns the original
 * request; `ttlSeconds` shortens the request's lifetime below the policy's.
 */
export type ApprovalRequest = Omit<Generated.RequestApprovalInput, 'context'> & { context: Record<string, unknown> };

/** An MCP tool's annotations, as its server declares them; untrusted, they may only raise the risk. */
export type ToolHints = Generated.ToolHintsInput;

/** The answer to a request: the stored approval and, when allowed outright, its token. */
export type RequestApprovalPayload = Member<Generated.RequestApprovalMutation['requestApproval'], 'RequestApprovalPayload'>;

/** How an execution ended, as its executor reports it. */
export type ExecutionOutcome = Generated.ExecutionOutcome;

/** The one use of a decision token, and the outcome the executor reported. */
export type Execution = Generated.ExecutionFieldsFragment;

/** What `execute` redeems: the token and the exact action it was issued for. */
export type ExecuteInput = Omit<Generated.ExecuteInput, 'context'> & { context: Record<string, unknown> };

/** The result of `execute` and `completeExecution` (`execution` is null for a dry run). */
export type ExecutePayload = Member<Generated.ExecuteMutation['execute'], 'ExecutePayload'>;
/** A fresh decision token and the approval it is for. */
export type ReissueTokenPayload = Member<Generated.ReissueTokenMutation['reissueToken'], 'ReissueTokenPayload'>;

/** The outcome of a started execution, reported by its executor. */
export type CompleteExecutionInput = Generated.CompleteExecutionInput;

/** An approver's vote on a pending request. */
export type DecideInput = Generated.DecideInput;

/** The same decision on several requests, each decided (and audited) on its own; 1 to 100 ids. */
export type DecideManyInput = Generated.DecideManyInput;

/** The outcome of one id of {@link DecideManyInput}: the approval as the vote left it, or the refusal. */
export type BatchDecision =
  | { approvalId: string; ok: true; approval: Approval }
  | { approvalId: string; ok: false; error: RefusedError };

/** Where a page ends and whether another follows. */
export type PageInfo = Member<Generated.ApprovalsQuery['approvals'], 'ApprovalConnection'>['pageInfo'];

/** One page of a listing; pass `pageInfo.endCursor` as `after` for the next. */
export interface Page<T> {
  nodes: T[];
  pageInfo: PageInfo;
}

/** Which approvals to list (requesters only ever see their own); `first` is 1 to 200 (default 50). */
export type ApprovalFilter = Generated.ApprovalsQueryVariables;

/** One link of the tenant's tamper-evident audit chain. */
export type AuditEvent = Generated.AuditEventFieldsFragment;

/** Which audit events to list; `since` is inclusive, `until` exclusive. */
export type AuditFilter = Omit<Generated.AuditEventsQueryVariables, 'since' | 'until'> & {
  since?: Date | IsoDateTime | null;
  until?: Date | IsoDateTime | null;
};

/** The verdict on the tenant's audit chain: `checked` counts the events verified before the first break. */
export type AuditChainVerification = Member<Generated.VerifyAuditChainQuery['verifyAuditChain'], 'AuditChainVerification'>;

/** A signed checkpoint of the tenant's audit chain: `note` is the C2SP signed note to keep elsewhere. */
export type AuditCheckpoint = Member<Generated.AuditCheckpointQuery['auditCheckpoint'], 'AuditCheckpoint'>;

/**
 * An event of the `pendingApprovals` subscription. CURRENT: pending when the subscription
 * started; ADDED, UPDATED (a vote), REMOVED (decided or expired).
 */
export type PendingApprovalEvent = Generated.PendingApprovalsSubscription['pendingApprovals'];

/**
 * An event of the `approvalUpdated` subscription; `token` is the decision token, for the
 * requester, when the change approved the request.
 */
export type ApprovalUpdate = Generated.ApprovalUpdatedSubscription['approvalUpdated'];

/** A notification channel (webhook, Slack or email) of the tenant; admins manage them. */
export type NotificationChannel = Generated.NotificationChannelFieldsFragment;

/** Where a channel sends: WEBHOOK, SLACK or EMAIL. */
export type NotificationChannelKind = Generated.NotificationChannelKind;

/** A new channel; `events` are names such as `approval.required` (see the schema for the list). */
export type CreateNotificationChannelInput = Generated.CreateNotificationChannelInput;

/** A channel's changes; fields left out stay as they are. */
export type UpdateNotificationChannelInput = Generated.UpdateNotificationChannelInput;

/** A new channel and, for webhook and Slack channels, its signing secret, shown only now. */
export type CreatedNotificationChannel = Member<Generated.CreateNotificationChannelMutation['createNotificationChannel'], 'CreateNotificationChannelPayload'>;

/** A channel's new signing secret, shown only now; the old one stops signing at once. */
export type RotatedNotificationSecret = Member<Generated.RotateNotificationSecretMutation['rotateNotificationSecret'], 'RotateNotificationSecretPayload'>;

/** One event owed to one channel, with every attempt to deliver it; its id is the webhook-id. */
export type NotificationDelivery = Generated.NotificationDeliveryFieldsFragment;

/** Where a delivery stands: PENDING, RETRYING, DELIVERED or DEAD. */
export type NotificationDeliveryStatus = Generated.NotificationDeliveryStatus;

/** Which deliveries to list, newest first; `first` is 1 to 200. */
export type NotificationDeliveryFilter = Generated.NotificationDeliveriesQueryVariables;
