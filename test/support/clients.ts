import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { TestServer } from './server.js';

/** A GraphQL execution result as subscriptions deliver it. */
export interface StreamedResult<T = any> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Results of one subscription, read one at a time with a deadline. */
export class EventQueue<T = any> {
  private readonly buffered: StreamedResult<T>[] = [];
  private readonly waiting: ((result: StreamedResult<T> | null) => void)[] = [];
  private ended = false;

  constructor(private readonly stop: () => void | Promise<void>) {}

  push(result: StreamedResult<T>): void {
    const reader = this.waiting.shift();
    if (reader) reader(result);
    else this.buffered.push(result);
  }

  end(): void {
    this.ended = true;
    for (const reader of this.waiting.splice(0)) reader(null);
  }

  /** The next result; fails when none arrives within `timeoutMs` or the stream ended. */
  async next(timeoutMs = 5_000): Promise<StreamedResult<T>> {
    const result = await this.take(timeoutMs);
    if (result === 'timeout') throw new Error(`no subscription event within ${timeoutMs} ms`);
    if (result === null) throw new Error('the subscription ended');
    return result;
  }

  /** The data of the next result; fails on GraphQL errors. */
  async nextData(timeoutMs = 5_000): Promise<T> {
    const result = await this.next(timeoutMs);
    if (result.errors?.length || !result.data) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
    return result.data;
  }

  /** Resolves when nothing arrives for `quietMs`; fails with the event that did arrive. */
  async expectNothing(quietMs = 300): Promise<void> {
    const result = await this.take(quietMs);
    if (result !== 'timeout' && result !== null) throw new Error(`unexpected subscription event: ${JSON.stringify(result)}`);
  }

  close(): void | Promise<void> {
    this.end();
    return this.stop();
  }

  private take(timeoutMs: number): Promise<StreamedResult<T> | null | 'timeout'> {
    const value = this.buffered.shift();
    if (value !== undefined) return Promise.resolve(value);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const reader = (result: StreamedResult<T> | null) => {
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(reader), 1);
        resolve('timeout');
      }, timeoutMs);
      this.waiting.push(reader);
    });
  }
}

/** A real graphql-ws client that authenticates in connection_init, as the SDK does. */
export function wsClient(server: TestServer, token: string | null): Client {
  return createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: token === null ? {} : { authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 0,
  });
}

/** Subscribes over graphql-ws; the queue's `close()` unsubscribes and disposes the client. */
export function wsSubscribe<T = any>(server: TestServer, token: string | null, query: string, variables: Record<string, unknown> = {}): EventQueue<T> {
  const client = wsClient(server, token);
  let unsubscribe = () => {};
  const queue = new EventQueue<T>(async () => {
    unsubscribe();
    await client.dispose();
  });
  unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => queue.push(result as StreamedResult<T>),
      error: (error) => {
        queue.push({ errors: Array.isArray(error) ? error : [{ message: String((error as { reason?: string }).reason ?? error) }] });
        queue.end();
      },
      complete: () => queue.end(),
    },
  );
  return queue;
}

/**
 * Subscribes over Server-Sent Events (yoga's built-in transport), authenticating with the bearer
 * header. Resolves once the response headers arrived, that is once the server subscribed.
 */
export async function sseSubscribe<T = any>(
  server: TestServer,
  token: string | null,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<EventQueue<T> & { status: number; contentType: string | null }> {
  const abort = new AbortController();
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'text/event-stream',
      ...(token !== null && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  const queue = new EventQueue<T>(() => abort.abort());
  const reader = response.body?.getReader();
  if (reader) void readEvents(reader, queue);
  return Object.assign(queue, { status: response.status, contentType: response.headers.get('content-type') });
}

/** Parses `event:`/`data:` blocks separated by blank lines; `event: next` blocks carry results. */
async function readEvents(reader: ReadableStreamDefaultReader<Uint8Array>, queue: EventQueue): Promise<void> {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, boundary);
        text = text.slice(boundary + 2);
        const lines = block.split('\n');
        const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim();
        const data = lines
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (event === 'complete') queue.end();
        else if (data) queue.push(JSON.parse(data));
      }
    }
  } catch {
    // aborted by close()
  } finally {
    queue.end();
  }
}

/** Resolves once `count` subscriptions listen to `tenant` on this server. */
export async function untilSubscribed(server: TestServer, tenant: string, count = 1, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (server.app.changes.subscriberCount(tenant) < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} subscription(s) on ${tenant} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A unique tenant name, so tests sharing a server never see each other's events. */
export function uniqueTenant(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

export const REQUEST_APPROVAL = /* GraphQL */ `
  mutation ($input: RequestApprovalInput!) {
    requestApproval(input: $input) {
      __typename
      ... on RequestApprovalPayload { token approval { id status requiredApprovals remainingApprovals expiresAt } }
      ... on Error { code message }
    }
  }
`;

export const DECIDE = /* GraphQL */ `
  mutation ($input: DecideInput!) {
    decide(input: $input) {
      __typename
      ... on Approval { id status remainingApprovals }
      ... on Error { code message }
    }
  }
`;

/** The policy asks one `approver` to countersign a payment of 1500. */
export const PENDING_PAYMENT = { action: 'payment', context: { amount: 1500 } } as const;

/** The policy allows a five-minute email response outright. */
export const ALLOWED_EMAIL = { action: 'email_response', context: { to: 'customer@example.com' }, estimatedDurationMinutes: 5 } as const;

/** Makes a request as `agentToken`; returns the approval id (and the token if allowed outright). */
export async function request(
  server: TestServer,
  agentToken: string,
  input: Record<string, unknown> = PENDING_PAYMENT,
): Promise<{ id: string; status: string; token: string | null }> {
  const body = await server.gql(agentToken, REQUEST_APPROVAL, { input });
  const result = body.data?.requestApproval;
  if (result?.__typename !== 'RequestApprovalPayload') throw new Error(`requestApproval failed: ${JSON.stringify(body)}`);
  return { id: result.approval.id, status: result.approval.status, token: result.token };
}

/** Decides as `approverToken`; returns the approval's new status. */
export async function decide(server: TestServer, approverToken: string, approvalId: string, decision: 'APPROVE' | 'REJECT', comment?: string): Promise<string> {
  const body = await server.gql(approverToken, DECIDE, { input: { approvalId, decision, comment } });
  const result = body.data?.decide;
  if (result?.__typename !== 'Approval') throw new Error(`decide failed: ${JSON.stringify(body)}`);
  return result.status;
}
