import type { Sink } from 'graphql-ws/client';
import {
  ApprovalAbortedError,
  ApprovalDeniedError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  ApprovalTimeoutError,
  RefusedError,
  TransportError,
} from './errors.js';
import {
  ApprovalDocument,
  ApprovalUpdatedDocument,
  ApprovalsDocument,
  AuditEventsDocument,
  CompleteExecutionDocument,
  DecideDocument,
  DecideManyDocument,
  ExecuteDocument,
  PendingApprovalsDocument,
  ReissueTokenDocument,
  RequestApprovalDocument,
  VerifyAuditChainDocument,
  AuditCheckpointDocument,
  CreateNotificationChannelDocument,
  DeleteNotificationChannelDocument,
  NotificationChannelsDocument,
  NotificationDeliveriesDocument,
  ReplayNotificationDeliveryDocument,
  RotateNotificationSecretDocument,
  UpdateNotificationChannelDocument,
  type TypedDocumentString,
} from './generated/graphql.js';
import type {
  Approval,
  BatchDecision,
  ApprovalFilter,
  ApprovalRequest,
  ApprovalUpdate,
  AuditChainVerification,
  AuditCheckpoint,
  AuditEvent,
  AuditFilter,
  CompleteExecutionInput,
  CreatedNotificationChannel,
  CreateNotificationChannelInput,
  DecideInput,
  DecideManyInput,
  ExecuteInput,
  ExecutePayload,
  NotificationChannel,
  NotificationDelivery,
  NotificationDeliveryFilter,
  Page,
  PendingApprovalEvent,
  ReissueTokenPayload,
  RequestApprovalPayload,
  RotatedNotificationSecret,
  UpdateNotificationChannelInput,
} from './types.js';
import { later, outcome, unwrap } from './results.js';
import { GraphQLTransport } from './transport.js';
import type { CountersignClientOptions, RequireApprovalOptions, StreamOptions } from './options.js';
import { waitForDecision } from './wait-for-decision.js';

export type { CountersignClientOptions, RequireApprovalOptions, StreamOptions } from './options.js';

/**
 * The agent and approver SDK: typed methods over GraphQL HTTP, and subscriptions over
 * graphql-ws on the same endpoint. Expected failures are thrown as {@link RefusedError} with the
 * server's stable `code`; an unreachable or failing server as {@link TransportError}.
 */
export class CountersignClient {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly graphqlUrl: string;
  /** The WebSocket endpoint of subscriptions. */
  readonly wsUrl: string;
  /** Where the server publishes the public keys of decision tokens. */
  readonly jwksUrl: string;
  private readonly transport: GraphQLTransport;

  constructor(options: CountersignClientOptions) {
    const endpoint = new URL(options.url);
    if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
      throw new TypeError(`The Countersign URL must be http(s), got ${JSON.stringify(options.url)}`);
    }
    const path = endpoint.pathname.replace(/\/+$/, '');
    endpoint.pathname = path.endsWith('/graphql') ? path : `${path}/graphql`;
    endpoint.search = '';
    endpoint.hash = '';
    this.graphqlUrl = endpoint.toString();
    this.wsUrl = this.graphqlUrl.replace(/^http/, 'ws');
    this.jwksUrl = new URL('/.well-known/jwks.json', endpoint).toString();
    const token = options.token;
    this.transport = new GraphQLTransport({
      graphqlUrl: this.graphqlUrl,
      wsUrl: this.wsUrl,
      token: async () => (typeof token === 'function' ? token() : token),
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
      webSocketImpl: options.webSocketImpl ?? globalThis.WebSocket,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      persistedOperations: options.persistedOperations === true,
    });
  }

  // ---------------------------------------------------------------- agents

  /** Asks the policy whether an action may run; an allowed action comes back with its token. */
  async requestApproval(request: ApprovalRequest, signal?: AbortSignal): Promise<RequestApprovalPayload> {
    const data = await this.request(RequestApprovalDocument, { input: request }, signal);
    return unwrap(data.requestApproval, 'RequestApprovalPayload');
  }

  /**
   * Resolves with the decision token once the action may run: at once when the policy allows it,
   * or when humans approve it (waiting on the `approvalUpdated` subscription, not polling).
   *
   * Rejects with {@link ApprovalDeniedError} (`DENIED`), {@link ApprovalRejectedError} (`REJECTED`),
   * {@link ApprovalExpiredError} (`EXPIRED`), {@link ApprovalTimeoutError} (`TIMEOUT`),
   * {@link ApprovalAbortedError} (`ABORTED`), a {@link RefusedError} or a {@link TransportError}.
   */
  async requireApproval(request: ApprovalRequest, options: RequireApprovalOptions = {}): Promise<string> {
    const { signal, timeoutMs } = options;
    let approvalId: string | null = null;
    // One controller ends everything this call started: the HTTP request, timers and the subscription.
    const stop = new AbortController();
    const stopped = new Promise<never>((_resolve, reject) => {
      stop.signal.addEventListener('abort', () => reject(stop.signal.reason), { once: true });
    });
    stopped.catch(() => {});
    const onAbort = () => stop.abort(new ApprovalAbortedError(approvalId, signal?.reason));
    if (signal?.aborted) throw new ApprovalAbortedError(null, signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const cancelTimeout =
      timeoutMs === undefined ? () => {} : later(timeoutMs, () => stop.abort(new ApprovalTimeoutError(approvalId, timeoutMs)));
    try {
      const { approval, token } = await Promise.race([this.requestApproval(request, stop.signal), stopped]);
      approvalId = approval.id;
      const decided = outcome(approval, token);
      if (decided !== null) return decided;
      options.onPending?.(approval);
      return await Promise.race([waitForDecision(this.transport, (id) => this.approval(id), approval, stop.signal), stopped]);
    } finally {
      cancelTimeout();
      signal?.removeEventListener('abort', onAbort);
      if (!stop.signal.aborted) stop.abort(new ApprovalAbortedError(approvalId));
    }
  }

  /**
   * A fresh decision token for an approved request of this caller whose token expired unused,
   * while the request's own window is open (EXPIRED after it); the old token can no longer execute.
   */
  async reissueToken(approvalId: string): Promise<ReissueTokenPayload> {
    const data = await this.request(ReissueTokenDocument, { approvalId });
    return unwrap(data.reissueToken, 'ReissueTokenPayload');
  }

  /** Redeems a decision token for the exact approved action, once. */
  async execute(input: ExecuteInput): Promise<ExecutePayload> {
    const data = await this.request(ExecuteDocument, { input });
    return unwrap(data.execute, 'ExecutePayload');
  }

  /** Reports how an execution ended; FAILED leaves the approval FAILED. */
  async completeExecution(input: CompleteExecutionInput): Promise<ExecutePayload> {
    const data = await this.request(CompleteExecutionDocument, { input });
    return unwrap(data.completeExecution, 'ExecutePayload');
  }

  // ---------------------------------------------------------------- reading

  /** One approval of the caller's tenant (requesters see only their own). */
  async approval(id: string): Promise<Approval> {
    const data = await this.request(ApprovalDocument, { id });
    return unwrap(data.approval, 'Approval');
  }

  /** One page of approvals, newest first. */
  async approvals(filter: ApprovalFilter = {}): Promise<Page<Approval>> {
    const data = await this.request(ApprovalsDocument, { ...filter });
    return unwrap(data.approvals, 'ApprovalConnection');
  }

  /** One page of the tenant's audit events, oldest first (auditors and admins). */
  async auditEvents(filter: AuditFilter = {}): Promise<Page<AuditEvent>> {
    const variables = {
      ...filter,
      since: filter.since instanceof Date ? filter.since.toISOString() : filter.since,
      until: filter.until instanceof Date ? filter.until.toISOString() : filter.until,
    };
    const data = await this.request(AuditEventsDocument, variables);
    return unwrap(data.auditEvents, 'AuditEventConnection');
  }

  /** Every audit event matching `filter`, oldest first, fetched page by page. */
  async *allAuditEvents(filter: Omit<AuditFilter, 'after'> = {}): AsyncGenerator<AuditEvent, void, undefined> {
    let after: string | null = null;
    do {
      const page: Page<AuditEvent> = await this.auditEvents({ first: 200, ...filter, after });
      yield* page.nodes;
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after !== null);
  }

  /**
   * Walks the tenant's audit chain and reports the first broken link (auditors and admins); with
   * a signed checkpoint kept elsewhere (see {@link auditCheckpoint}), also whether the chain was
   * truncated or re-hashed since; and approvals whose status differs from their trail.
   */
  async verifyAuditChain(options: { checkpoint?: string | null } = {}): Promise<AuditChainVerification> {
    const data = await this.request(VerifyAuditChainDocument, { checkpoint: options.checkpoint ?? null });
    return unwrap(data.verifyAuditChain, 'AuditChainVerification');
  }

  /** A signed checkpoint of the tenant's audit chain, to keep elsewhere (auditors and admins). */
  async auditCheckpoint(): Promise<AuditCheckpoint> {
    const data = await this.request(AuditCheckpointDocument, {});
    return unwrap(data.auditCheckpoint, 'AuditCheckpoint');
  }

  // ---------------------------------------------------------------- approvers

  /** Records an approver's decision; N approvals approve, the first rejection rejects. */
  async decide(input: DecideInput): Promise<Approval> {
    const data = await this.request(DecideDocument, { input });
    return unwrap(data.decide, 'Approval');
  }

  /**
   * Records the same decision on several requests. Each is decided on its own (its own
   * transaction and audit event), so some may be refused while others are accepted: the result
   * holds one entry per id, in order. A refusal of the whole call (e.g. UNAUTHENTICATED) throws.
   */
  async decideMany(input: DecideManyInput): Promise<BatchDecision[]> {
    const data = await this.request(DecideManyDocument, { input });
    const { results } = unwrap(data.decideMany, 'DecideManyPayload');
    return results.map(({ approvalId, result }): BatchDecision => {
      try {
        return { approvalId, ok: true, approval: unwrap(result, 'Approval') };
      } catch (error) {
        if (error instanceof RefusedError) return { approvalId, ok: false, error };
        throw error;
      }
    });
  }

  /** Approves a request (one vote of those it needs). */
  approve(approvalId: string, comment?: string | null): Promise<Approval> {
    return this.decide({ approvalId, decision: 'APPROVE', comment: comment ?? null });
  }

  /** Rejects a request; the first rejection closes it. */
  reject(approvalId: string, comment?: string | null): Promise<Approval> {
    return this.decide({ approvalId, decision: 'REJECT', comment: comment ?? null });
  }

  // ---------------------------------------------------------------- notification channels (admins)

  /** The tenant's notification channels. */
  async notificationChannels(): Promise<NotificationChannel[]> {
    const data = await this.request(NotificationChannelsDocument, {});
    return unwrap(data.notificationChannels, 'NotificationChannelList').channels;
  }

  /** Adds a channel; a webhook or Slack channel's signing secret is returned only now. */
  async createNotificationChannel(input: CreateNotificationChannelInput): Promise<CreatedNotificationChannel> {
    const data = await this.request(CreateNotificationChannelDocument, { input });
    return unwrap(data.createNotificationChannel, 'CreateNotificationChannelPayload');
  }

  /** Changes a channel; fields left out stay as they are. */
  async updateNotificationChannel(input: UpdateNotificationChannelInput): Promise<NotificationChannel> {
    const data = await this.request(UpdateNotificationChannelDocument, { input });
    return unwrap(data.updateNotificationChannel, 'UpdateNotificationChannelPayload').channel;
  }

  /** Deletes a channel and its delivery history; resolves with its id. */
  async deleteNotificationChannel(id: string): Promise<string> {
    const data = await this.request(DeleteNotificationChannelDocument, { id });
    return unwrap(data.deleteNotificationChannel, 'DeleteNotificationChannelPayload').deletedId;
  }

  /** A new signing secret for a channel, returned only now; the old one stops signing at once. */
  async rotateNotificationSecret(id: string): Promise<RotatedNotificationSecret> {
    const data = await this.request(RotateNotificationSecretDocument, { id });
    return unwrap(data.rotateNotificationSecret, 'RotateNotificationSecretPayload');
  }

  /** One page of deliveries, newest first, each with every attempt. */
  async notificationDeliveries(filter: NotificationDeliveryFilter = {}): Promise<Page<NotificationDelivery>> {
    const data = await this.request(NotificationDeliveriesDocument, { ...filter });
    return unwrap(data.notificationDeliveries, 'NotificationDeliveryConnection');
  }

  /** Sends a delivery again from the start of its retry schedule, with the same webhook-id. */
  async replayNotificationDelivery(id: string): Promise<NotificationDelivery> {
    const data = await this.request(ReplayNotificationDeliveryDocument, { id });
    return unwrap(data.replayNotificationDelivery, 'ReplayNotificationDeliveryPayload').delivery;
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Requests the caller may decide, as they become pending, gather votes and leave pending.
   * With `current: true` the requests already pending come first (kind CURRENT).
   */
  pendingApprovals(options: StreamOptions = {}): AsyncIterableIterator<PendingApprovalEvent> {
    return this.stream(PendingApprovalsDocument, { current: options.current ?? false }, 'pendingApprovals', options.signal);
  }

  /** Every change of one approval; with `current: true` its current state comes first (kind `current`). */
  approvalUpdates(id: string, options: StreamOptions = {}): AsyncIterableIterator<ApprovalUpdate> {
    return this.stream(ApprovalUpdatedDocument, { id, current: options.current ?? false }, 'approvalUpdated', options.signal);
  }

  /** Closes the subscription connection; in-flight streams end. */
  close(): Promise<void> {
    return this.transport.close();
  }

  // ---------------------------------------------------------------- internals

  private request<T, V>(document: TypedDocumentString<T, V>, variables: V, signal?: AbortSignal): Promise<T> {
    return this.transport.request(document, variables, signal);
  }

  private subscribe<T, V>(document: TypedDocumentString<T, V>, variables: V, sink: Sink<T>): () => void {
    return this.transport.subscribe(document, variables, sink);
  }

  private stream<R, V, F extends keyof R>(document: TypedDocumentString<R, V>, variables: V, field: F, signal?: AbortSignal): AsyncIterableIterator<R[F]> {
    return this.transport.stream(document, variables, field, signal);
  }
}
