import { NotFoundError } from '../../domain/errors.js';
import type { AttemptView, DeliveryView, NotificationChannelView } from '../../notify/channel-admin.js';
import { NOTIFICATION_EVENT_TYPES } from '../../notify/events.js';
import { connection } from './approval.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';

const ChannelKindEnum = builder.enumType('NotificationChannelKind', {
  description: 'WEBHOOK: signed JSON (Standard Webhooks); SLACK: a Block Kit message to an incoming webhook; EMAIL: over SMTP.',
  values: ['WEBHOOK', 'SLACK', 'EMAIL'] as const,
});

const DeliveryStatusEnum = builder.enumType('NotificationDeliveryStatus', {
  description: 'PENDING: due; RETRYING: an attempt failed, another is scheduled; DELIVERED; DEAD: every attempt failed (replay it).',
  values: ['PENDING', 'RETRYING', 'DELIVERED', 'DEAD'] as const,
});

const AttemptOutcomeEnum = builder.enumType('NotificationAttemptOutcome', { values: ['DELIVERED', 'FAILED'] as const });

const ChannelRef = builder.objectRef<NotificationChannelView>('NotificationChannel').implement({
  description: 'Where a tenant\'s notifications go, and which events.',
  fields: (t) => ({
    id: t.exposeID('id'),
    kind: t.expose('kind', { type: ChannelKindEnum }),
    name: t.exposeString('name'),
    url: t.exposeString('url', { nullable: true, description: 'The webhook URL; for Slack only its origin, since the full URL is a credential.' }),
    emailTo: t.exposeStringList('emailTo'),
    events: t.exposeStringList('events', { description: `Any of ${NOTIFICATION_EVENT_TYPES.join(', ')}.` }),
    enabled: t.exposeBoolean('enabled'),
    includeContext: t.exposeBoolean('includeContext', { description: 'Whether messages carry the request\'s context (it may hold personal data).' }),
    expiringBeforeSeconds: t.exposeInt('expiringBeforeSeconds', { description: 'How long before a pending request lapses approval.expiring is sent.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const AttemptRef = builder.objectRef<AttemptView>('NotificationAttempt').implement({
  description: 'One attempt to hand a delivery over.',
  fields: (t) => ({
    number: t.exposeInt('number'),
    at: t.expose('at', { type: 'DateTime' }),
    durationMs: t.exposeInt('durationMs'),
    outcome: t.expose('outcome', { type: AttemptOutcomeEnum }),
    statusCode: t.exposeInt('statusCode', { nullable: true, description: 'The HTTP status or SMTP reply code, when the destination answered.' }),
    result: t.exposeString('result', { description: 'The destination\'s answer, or why the attempt failed.' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true }),
  }),
});

const DeliveryRef = builder.objectRef<DeliveryView>('NotificationDelivery').implement({
  description: 'One event owed to one channel. Its id is the webhook-id receivers deduplicate by.',
  fields: (t) => ({
    id: t.exposeID('id'),
    channelId: t.exposeID('channelId'),
    eventType: t.exposeString('eventType'),
    approvalId: t.exposeID('approvalId', { nullable: true }),
    status: t.expose('status', { type: DeliveryStatusEnum }),
    attempts: t.exposeInt('attempts'),
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    nextAttemptAt: t.expose('nextAttemptAt', { type: 'DateTime', nullable: true, description: 'When the next attempt is due, while one is.' }),
    lastAttemptAt: t.expose('lastAttemptAt', { type: 'DateTime', nullable: true }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true }),
    lastResult: t.exposeString('lastResult', { nullable: true }),
    deliveredAt: t.expose('deliveredAt', { type: 'DateTime', nullable: true }),
    attemptLog: t.expose('attemptLog', { type: [AttemptRef] }),
  }),
});

const DeliveryConnection = connection<DeliveryView>('NotificationDelivery', DeliveryRef);

const ChannelListRef = builder.objectRef<{ channels: NotificationChannelView[] }>('NotificationChannelList').implement({
  fields: (t) => ({ channels: t.expose('channels', { type: [ChannelRef] }) }),
});

const ChannelPayload = builder
  .objectRef<{ channel: NotificationChannelView; signingSecret: string | null }>('CreateNotificationChannelPayload')
  .implement({
    fields: (t) => ({
      channel: t.expose('channel', { type: ChannelRef }),
      signingSecret: t.exposeString('signingSecret', {
        nullable: true,
        description: 'A webhook\'s Standard Webhooks secret (whsec_…), shown only now.',
      }),
    }),
  });

const UpdatePayload = builder.objectRef<{ channel: NotificationChannelView }>('UpdateNotificationChannelPayload').implement({
  fields: (t) => ({ channel: t.expose('channel', { type: ChannelRef }) }),
});

const DeletePayload = builder.objectRef<{ deletedId: string }>('DeleteNotificationChannelPayload').implement({
  fields: (t) => ({ deletedId: t.exposeID('deletedId') }),
});

const RotatePayload = builder.objectRef<{ channel: NotificationChannelView; signingSecret: string }>('RotateNotificationSecretPayload').implement({
  fields: (t) => ({
    channel: t.expose('channel', { type: ChannelRef }),
    signingSecret: t.exposeString('signingSecret', { description: 'The new secret, shown only now; the old one stops signing at once.' }),
  }),
});

const ReplayPayload = builder.objectRef<{ delivery: DeliveryView }>('ReplayNotificationDeliveryPayload').implement({
  fields: (t) => ({ delivery: t.expose('delivery', { type: DeliveryRef }) }),
});

const CreateInput = builder.inputType('CreateNotificationChannelInput', {
  fields: (t) => ({
    kind: t.field({ type: ChannelKindEnum, required: true }),
    name: t.string({ required: true }),
    url: t.string({ description: 'The webhook URL, or the Slack incoming-webhook URL.' }),
    emailTo: t.stringList({ description: 'Recipients of an email channel.' }),
    events: t.stringList({ required: true }),
    includeContext: t.boolean(),
    expiringBeforeSeconds: t.int({ description: 'Lead time of approval.expiring (default COUNTERSIGN_NOTIFY_EXPIRING_SECONDS, 300).' }),
  }),
});

const UpdateInput = builder.inputType('UpdateNotificationChannelInput', {
  description: 'Fields left out stay as they are.',
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    url: t.string(),
    emailTo: t.stringList(),
    events: t.stringList(),
    includeContext: t.boolean(),
    enabled: t.boolean(),
    expiringBeforeSeconds: t.int(),
  }),
});

const ADMIN_ERRORS = [NotFoundError];

builder.queryFields((t) => ({
  notificationChannels: t.field({
    type: ChannelListRef,
    description: 'The tenant\'s notification channels. Admins only.',
    errors: {},
    resolve: async (_root, _args, context) => ({ channels: await context.notifications.list(callerOf(context)) }),
  }),
  notificationDeliveries: t.field({
    type: DeliveryConnection,
    description: 'Deliveries newest first, each with every attempt. Admins only.',
    errors: {},
    args: {
      channelId: t.arg.id(),
      status: t.arg({ type: DeliveryStatusEnum }),
      first: t.arg.int(),
      after: t.arg.string(),
    },
    resolve: (_root, args, context) =>
      context.notifications.deliveries(callerOf(context), { ...args, channelId: args.channelId == null ? null : String(args.channelId) }),
  }),
}));

builder.mutationFields((t) => ({
  createNotificationChannel: t.field({
    type: ChannelPayload,
    description: 'Adds a channel; only events after this moment reach it. Admins only.',
    errors: {},
    args: { input: t.arg({ type: CreateInput, required: true }) },
    resolve: (_root, { input }, context) => context.notifications.create(callerOf(context), input),
  }),
  updateNotificationChannel: t.field({
    type: UpdatePayload,
    errors: { types: ADMIN_ERRORS },
    args: { input: t.arg({ type: UpdateInput, required: true }) },
    resolve: async (_root, { input }, context) => ({
      channel: await context.notifications.update(callerOf(context), { ...input, id: String(input.id) }),
    }),
  }),
  deleteNotificationChannel: t.field({
    type: DeletePayload,
    description: 'Deletes a channel with its delivery history.',
    errors: { types: ADMIN_ERRORS },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => ({ deletedId: await context.notifications.delete(callerOf(context), String(id)) }),
  }),
  rotateNotificationSecret: t.field({
    type: RotatePayload,
    description: 'Gives a webhook channel a new signing secret.',
    errors: { types: ADMIN_ERRORS },
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, { id }, context) => context.notifications.rotateSecret(callerOf(context), String(id)),
  }),
  replayNotificationDelivery: t.field({
    type: ReplayPayload,
    description: 'Sends a delivery again from the start of its retry schedule, with the same webhook-id.',
    errors: { types: ADMIN_ERRORS },
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, context) => ({ delivery: await context.notifications.replay(callerOf(context), String(id)) }),
  }),
}));
