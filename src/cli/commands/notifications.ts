import type { NotificationChannel, NotificationChannelKind, NotificationDelivery, NotificationDeliveryStatus } from '../../client/index.js';
import { CliUsageError, commandOnId, connect, integerOption, noPositionals, onePositional, parseCommand, print, printJson, type ClientCommand } from './shared.js';

// Every command goes through the SDK, whose documents form the persisted-operations manifest, so
// these work against a server with COUNTERSIGN_PERSISTED_ONLY=true as the approver commands do.
// A refusal (FORBIDDEN, NOT_FOUND, INVALID_INPUT) is thrown as the SDK's RefusedError (exit 1), an
// unreachable server as a TransportError (exit 3).

const list = (text: string | undefined): string[] | undefined =>
  text === undefined ? undefined : text.split(',').map((item) => item.trim()).filter(Boolean);

function kindOption(value: string | undefined, usage: string): NotificationChannelKind {
  const kind = value?.toUpperCase();
  if (kind !== 'WEBHOOK' && kind !== 'SLACK' && kind !== 'EMAIL') throw new CliUsageError('--kind must be webhook, slack or email', usage);
  return kind;
}

function booleanOption(value: string | undefined, name: string, usage: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'yes') return true;
  if (value === 'false' || value === 'no') return false;
  throw new CliUsageError(`--${name} must be true or false`, usage);
}

function channelLine(channel: NotificationChannel): string {
  const where = channel.kind === 'EMAIL' ? channel.emailTo.join(', ') : channel.url;
  return `${channel.id}  ${channel.kind.padEnd(7)} ${channel.enabled ? 'on ' : 'off'}  ${channel.name}  → ${where}\n    events: ${channel.events.join(', ')}${channel.includeContext ? '  (with context)' : ''}`;
}

const channelsCommand: ClientCommand = {
  usage: 'countersign notifications list [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    noPositionals(positionals, this.usage);
    const channels = await connect(values, env, this.usage).notificationChannels();
    if (values.json) printJson(channels);
    else if (channels.length === 0) print('No notification channels.');
    else for (const channel of channels) print(channelLine(channel));
    return 0;
  },
};

const CHANNEL_OPTIONS = {
  name: { type: 'string' },
  'webhook-url': { type: 'string' },
  email: { type: 'string' },
  events: { type: 'string' },
  'include-context': { type: 'string' },
  'expiring-before': { type: 'string' },
} as const;

const createCommand: ClientCommand = {
  usage:
    'countersign notifications create --kind webhook|slack|email --name NAME [--webhook-url URL] [--email a@x,b@y] --events e1,e2 [--include-context true] [--expiring-before SECONDS] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, { kind: { type: 'string' }, ...CHANNEL_OPTIONS }, this.usage);
    noPositionals(positionals, this.usage);
    if (!values.name || !values.events) throw new CliUsageError('create needs --name and --events', this.usage);
    const input = {
      kind: kindOption(values.kind, this.usage),
      name: values.name,
      url: values['webhook-url'],
      emailTo: list(values.email),
      events: list(values.events) ?? [],
      includeContext: booleanOption(values['include-context'], 'include-context', this.usage),
      expiringBeforeSeconds: values['expiring-before'] === undefined ? undefined : integerOption(values['expiring-before'], 'expiring-before', 300, 1, 86_400, this.usage),
    };
    const result = await connect(values, env, this.usage).createNotificationChannel(input);
    if (values.json) printJson(result);
    else {
      print(channelLine(result.channel));
      if (result.signingSecret) print(`Signing secret (shown only now; receivers verify webhook-signature with it):\n${result.signingSecret}`);
    }
    return 0;
  },
};

const updateCommand: ClientCommand = {
  usage: 'countersign notifications update ID [--name N] [--webhook-url U] [--email a@x] [--events e1,e2] [--enabled true|false] [--include-context true|false] [--expiring-before S] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, { ...CHANNEL_OPTIONS, enabled: { type: 'string' } }, this.usage);
    const id = onePositional(positionals, 'channel id', this.usage);
    const input = {
      id,
      name: values.name,
      url: values['webhook-url'],
      emailTo: list(values.email),
      events: list(values.events),
      enabled: booleanOption(values.enabled, 'enabled', this.usage),
      includeContext: booleanOption(values['include-context'], 'include-context', this.usage),
      expiringBeforeSeconds: values['expiring-before'] === undefined ? undefined : integerOption(values['expiring-before'], 'expiring-before', 300, 1, 86_400, this.usage),
    };
    const channel = await connect(values, env, this.usage).updateNotificationChannel(input);
    if (values.json) printJson(channel);
    else print(channelLine(channel));
    return 0;
  },
};

const deleteCommand: ClientCommand = {
  usage: 'countersign notifications delete ID',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    const id = onePositional(positionals, 'channel id', this.usage);
    await connect(values, env, this.usage).deleteNotificationChannel(id);
    print(`Deleted channel ${id} and its delivery history.`);
    return 0;
  },
};

const rotateCommand = commandOnId(
  'countersign notifications rotate-secret ID [--json]',
  'channel id',
  (client, id) => client.rotateNotificationSecret(id),
  (result, id) => [`New signing secret of ${id} (shown only now; the old one no longer signs):`, result.signingSecret],
);

function deliveryLines(delivery: NotificationDelivery): string[] {
  const next = delivery.nextAttemptAt ? `, next attempt ${delivery.nextAttemptAt}` : '';
  return [
    `${delivery.id}  ${delivery.status.padEnd(9)} ${delivery.eventType}  approval ${delivery.approvalId ?? '-'}  channel ${delivery.channelId}  (${delivery.attempts} attempt(s)${next})`,
    ...delivery.attemptLog.map(
      (attempt) => `    #${attempt.number} ${attempt.at} ${attempt.outcome} ${attempt.statusCode ?? '-'} ${attempt.result}${attempt.nextAttemptAt ? ` → retry ${attempt.nextAttemptAt}` : ''}`,
    ),
  ];
}

const deliveriesCommand: ClientCommand = {
  usage: 'countersign notifications deliveries [--channel ID] [--status PENDING|RETRYING|DELIVERED|DEAD] [--limit N] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, { channel: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } }, this.usage);
    noPositionals(positionals, this.usage);
    const status = values.status?.toUpperCase() as NotificationDeliveryStatus | undefined;
    if (status !== undefined && !['PENDING', 'RETRYING', 'DELIVERED', 'DEAD'].includes(status)) {
      throw new CliUsageError('--status must be PENDING, RETRYING, DELIVERED or DEAD', this.usage);
    }
    const first = integerOption(values.limit, 'limit', 20, 1, 200, this.usage);
    const { nodes } = await connect(values, env, this.usage).notificationDeliveries({ channelId: values.channel ?? null, status: status ?? null, first });
    if (values.json) printJson(nodes);
    else if (nodes.length === 0) print('No deliveries.');
    else for (const delivery of nodes) for (const line of deliveryLines(delivery)) print(line);
    return 0;
  },
};

const replayCommand = commandOnId(
  'countersign notifications replay DELIVERY_ID [--json]',
  'delivery id',
  (client, id) => client.replayNotificationDelivery(id),
  (_delivery, id) => [`Replaying ${id}: it is due now, with the same webhook-id.`],
);

/** `countersign notifications …`: channel administration and the delivery record, for admins. */
export const NOTIFICATION_COMMANDS: Record<string, ClientCommand> = {
  'notifications list': channelsCommand,
  'notifications create': createCommand,
  'notifications update': updateCommand,
  'notifications delete': deleteCommand,
  'notifications rotate-secret': rotateCommand,
  'notifications deliveries': deliveriesCommand,
  'notifications replay': replayCommand,
};

export const NOTIFICATIONS_HELP = `  countersign notifications list|create|update|delete|rotate-secret|deliveries|replay (admins)
      Notification channels (webhook, Slack, email) and every delivery attempt; see
      countersign notifications create --help.`;
