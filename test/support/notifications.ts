/** GraphQL documents and helpers of the notification tests: admins manage channels over HTTP. */
import { expect } from 'vitest';
import { freshTenant, type GateClient, type Tenant } from './gate.js';
import { startWebhookReceiver, type WebhookReceiver, type WebhookReceiverOptions } from './receivers.js';
import type { TestServer } from './server.js';
import { loadNotifyConfig, type NotifyConfig } from '../../src/notify/config.js';

const ERRORS = `... on Error { __typename code message } ... on InvalidInputError { field problem }`;

const CHANNEL = 'id kind name url emailTo events enabled includeContext expiringBeforeSeconds';

export const CREATE_CHANNEL = `
  mutation ($input: CreateNotificationChannelInput!) {
    createNotificationChannel(input: $input) {
      __typename
      ... on CreateNotificationChannelPayload { signingSecret channel { ${CHANNEL} } }
      ${ERRORS}
    }
  }`;

export const UPDATE_CHANNEL = `
  mutation ($input: UpdateNotificationChannelInput!) {
    updateNotificationChannel(input: $input) {
      __typename
      ... on UpdateNotificationChannelPayload { channel { ${CHANNEL} } }
      ${ERRORS}
    }
  }`;

export const DELETE_CHANNEL = `
  mutation ($id: ID!) {
    deleteNotificationChannel(id: $id) { __typename ... on DeleteNotificationChannelPayload { deletedId } ${ERRORS} }
  }`;

export const ROTATE_SECRET = `
  mutation ($id: ID!) {
    rotateNotificationSecret(id: $id) { __typename ... on RotateNotificationSecretPayload { signingSecret channel { id } } ${ERRORS} }
  }`;

export const CHANNELS = `
  query { notificationChannels { __typename ... on NotificationChannelList { channels { ${CHANNEL} } } ${ERRORS} } }`;

const DELIVERY = `id channelId eventType approvalId status attempts nextAttemptAt lastStatusCode lastResult deliveredAt
  attemptLog { number at outcome statusCode result nextAttemptAt }`;

export const DELIVERIES = `
  query ($channelId: ID, $status: NotificationDeliveryStatus, $first: Int, $after: String) {
    notificationDeliveries(channelId: $channelId, status: $status, first: $first, after: $after) {
      __typename
      ... on NotificationDeliveryConnection { edges { cursor node { ${DELIVERY} } } pageInfo { hasNextPage endCursor } }
      ${ERRORS}
    }
  }`;

export const REPLAY = `
  mutation ($id: ID!) {
    replayNotificationDelivery(id: $id) { __typename ... on ReplayNotificationDeliveryPayload { delivery { ${DELIVERY} } } ${ERRORS} }
  }`;

/** Notification settings for tests: local receivers allowed, short retries, quick polls. */
export function testNotifyConfig(overrides: Partial<NotifyConfig> = {}): NotifyConfig {
  return {
    ...loadNotifyConfig({}),
    allowPrivate: true,
    retryBaseMs: 40,
    pollMs: 100,
    publicUrl: 'https://countersign.example.com',
    ...overrides,
  };
}

async function call(server: TestServer, client: GateClient, query: string, variables: Record<string, unknown>, field: string): Promise<any> {
  const body = await server.gql(client.bearer, query, variables);
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data[field];
}

export interface CreatedChannel {
  id: string;
  signingSecret: string | null;
}

/** Creates a channel as `admin` and asserts it was created. */
export async function createChannel(server: TestServer, admin: GateClient, input: Record<string, unknown>): Promise<CreatedChannel> {
  const result = await call(server, admin, CREATE_CHANNEL, { input }, 'createNotificationChannel');
  expect(result.__typename, JSON.stringify(result)).toBe('CreateNotificationChannelPayload');
  return { id: result.channel.id, signingSecret: result.signingSecret };
}

/**
 * Creates a webhook channel of `admin`'s tenant that sends `events` to `receiver`, and has the
 * receiver verify its signatures with the channel's secret (a Standard Webhooks `whsec_`).
 */
export async function webhookChannel(
  server: TestServer,
  admin: GateClient,
  receiver: WebhookReceiver,
  events: string[],
  extra: Record<string, unknown> = {},
): Promise<CreatedChannel> {
  const channel = await createChannel(server, admin, { kind: 'WEBHOOK', name: 'ops hook', url: receiver.url, events, ...extra });
  expect(channel.signingSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  receiver.secret = channel.signingSecret as string;
  return channel;
}

/** A fresh tenant's webhook channel: the tenant's label, the events it selects, its other fields, its receiver's behaviour. */
export interface WebhookChannelSetup {
  label: string;
  events: string[];
  channel?: Record<string, unknown>;
  receiver?: WebhookReceiverOptions;
}

/** Runs `body` with a fresh tenant whose one webhook channel sends to a receiver of its own, closed afterwards. */
export async function withWebhookChannel<T>(
  server: TestServer,
  setup: WebhookChannelSetup,
  body: (parts: { tenant: Tenant; receiver: WebhookReceiver; channel: CreatedChannel }) => Promise<T>,
): Promise<T> {
  const tenant = await freshTenant(server, setup.label);
  const receiver = await startWebhookReceiver(setup.receiver);
  try {
    const channel = await webhookChannel(server, tenant.admin, receiver, setup.events, setup.channel);
    return await body({ tenant, receiver, channel });
  } finally {
    await receiver.close();
  }
}

export const notifications = {
  create: (server: TestServer, client: GateClient, input: Record<string, unknown>) => call(server, client, CREATE_CHANNEL, { input }, 'createNotificationChannel'),
  update: (server: TestServer, client: GateClient, input: Record<string, unknown>) => call(server, client, UPDATE_CHANNEL, { input }, 'updateNotificationChannel'),
  delete: (server: TestServer, client: GateClient, id: string) => call(server, client, DELETE_CHANNEL, { id }, 'deleteNotificationChannel'),
  rotate: (server: TestServer, client: GateClient, id: string) => call(server, client, ROTATE_SECRET, { id }, 'rotateNotificationSecret'),
  channels: (server: TestServer, client: GateClient) => call(server, client, CHANNELS, {}, 'notificationChannels'),
  deliveries: (server: TestServer, client: GateClient, variables: Record<string, unknown> = {}) => call(server, client, DELIVERIES, variables, 'notificationDeliveries'),
  replay: (server: TestServer, client: GateClient, id: string) => call(server, client, REPLAY, { id }, 'replayNotificationDelivery'),
};

/** Polls the deliveries of a channel until one matches; the dispatcher records outcomes just after sending. */
export async function deliveryWhere(
  server: TestServer,
  admin: GateClient,
  channelId: string,
  predicate: (delivery: any) => boolean,
  timeoutMs = 10_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await notifications.deliveries(server, admin, { channelId });
    const found = page.edges.map((edge: any) => edge.node).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching delivery within ${timeoutMs} ms: ${JSON.stringify(page.edges)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
