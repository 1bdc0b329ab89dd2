import { RefusedError, TransportError } from '../../client/index.js';
import type { ErrorCode } from '../../domain/errors.js';
import { CliUsageError, DEFAULT_URL, integerOption, noPositionals, onePositional, parseCommand, print, printJson, type ClientCommand } from './shared.js';

const CHANNEL = 'id kind name url emailTo events enabled includeContext expiringBeforeSeconds createdAt';
const DELIVERY = `id channelId eventType approvalId status attempts createdAt nextAttemptAt lastStatusCode lastResult deliveredAt
  attemptLog { number at outcome statusCode result nextAttemptAt }`;
const ERRORS = '... on Error { __typename code message } ... on InvalidInputError { field problem }';

interface Connection {
  url?: string | undefined;
  token?: string | undefined;
}

/**
 * Runs one admin operation and returns its typed result: a refusal (FORBIDDEN, NOT_FOUND,
 * INVALID_INPUT) is thrown as the SDK's RefusedError (exit 1), an unreachable server as a
 * TransportError (exit 3).
 */
async function call(values: Connection, env: NodeJS.ProcessEnv, usage: string, field: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const base = (values.url ?? (env['COUNTERSIGN_URL'] || DEFAULT_URL)).replace(/\/+$/, '');
  const token = values.token ?? env['COUNTERSIGN_TOKEN'];
  if (!token) throw new CliUsageError('no caller token: pass --token or set COUNTERSIGN_TOKEN', usage);
  const endpoint = base.endsWith('/graphql') ? base : `${base}/graphql`;
  let body: { data?: Record<string, any>; errors?: { message: string }[] };
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(30_000),
    });
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw new TransportError(`Could not reach Countersign at ${endpoint}: ${(error as Error).message}`, { cause: error });
  }
  if (body.errors?.length || !body.data) throw new TransportError(`Countersign failed: ${body.errors?.map((error) => error.message).join('; ') ?? 'no data'}`);
  const result = body.data[field];
  if (typeof result?.code === 'string' && typeof result.__typename === 'string' && result.__typename.endsWith('Error')) {
    const detail = result.field ? ` (${result.field}: ${result.problem})` : '';
    throw new RefusedError(result.code as ErrorCode, `${result.message}${detail}`, result);
  }
  return result;
}

const list = (text: string | undefined): string[] | undefined =>
  text === undefined ? undefined : text.split(',').map((item) => item.trim()).filter(Boolean);

function kindOption(value: string | undefined, usage: string): string {
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

function channelLine(channel: any): string {
  const where = channel.kind === 'EMAIL' ? channel.emailTo.join(', ') : channel.url;
  return `${channel.id}  ${channel.kind.padEnd(7)} ${channel.enabled ? 'on ' : 'off'}  ${channel.name}  → ${where}\n    events: ${channel.events.join(', ')}${channel.includeContext ? '  (with context)' : ''}`;
}

const channelsCommand: ClientCommand = {
  usage: 'countersign notifications list [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    noPositionals(positionals, this.usage);
    const result = await call(values, env, this.usage, 'notificationChannels', `query { notificationChannels { __typename ... on NotificationChannelList { channels { ${CHANNEL} } } ${ERRORS} } }`);
    if (values.json) printJson(result.channels);
    else if (result.channels.length === 0) print('No notification channels.');
    else for (const channel of result.channels) print(channelLine(channel));
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
      events: list(values.events),
      includeContext: booleanOption(values['include-context'], 'include-context', this.usage),
      expiringBeforeSeconds: values['expiring-before'] === undefined ? undefined : integerOption(values['expiring-before'], 'expiring-before', 300, 1, 86_400, this.usage),
    };
    const result = await call(values, env, this.usage, 'createNotificationChannel', `
      mutation ($input: CreateNotificationChannelInput!) {
        createNotificationChannel(input: $input) { __typename ... on CreateNotificationChannelPayload { signingSecret channel { ${CHANNEL} } } ${ERRORS} }
      }`, { input });
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
    const result = await call(values, env, this.usage, 'updateNotificationChannel', `
      mutation ($input: UpdateNotificationChannelInput!) {
        updateNotificationChannel(input: $input) { __typename ... on UpdateNotificationChannelPayload { channel { ${CHANNEL} } } ${ERRORS} }
      }`, { input });
    if (values.json) printJson(result.channel);
    else print(channelLine(result.channel));
    return 0;
  },
};

const deleteCommand: ClientCommand = {
  usage: 'countersign notifications delete ID',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    const id = onePositional(positionals, 'channel id', this.usage);
    await call(values, env, this.usage, 'deleteNotificationChannel', `mutation ($id: ID!) { deleteNotificationChannel(id: $id) { __typename ... on DeleteNotificationChannelPayload { deletedId } ${ERRORS} } }`, { id });
    print(`Deleted channel ${id} and its delivery history.`);
    return 0;
  },
};

const rotateCommand: ClientCommand = {
  usage: 'countersign notifications rotate-secret ID [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    const id = onePositional(positionals, 'channel id', this.usage);
    const result = await call(values, env, this.usage, 'rotateNotificationSecret', `mutation ($id: ID!) { rotateNotificationSecret(id: $id) { __typename ... on RotateNotificationSecretPayload { signingSecret channel { id } } ${ERRORS} } }`, { id });
    if (values.json) printJson(result);
    else print(`New signing secret of ${id} (shown only now; the old one no longer signs):\n${result.signingSecret}`);
    return 0;
  },
};

function deliveryLines(delivery: any): string[] {
  const next = delivery.nextAttemptAt ? `, next attempt ${delivery.nextAttemptAt}` : '';
  return [
    `${delivery.id}  ${delivery.status.padEnd(9)} ${delivery.eventType}  approval ${delivery.approvalId ?? '-'}  channel ${delivery.channelId}  (${delivery.attempts} attempt(s)${next})`,
    ...delivery.attemptLog.map(
      (attempt: any) => `    #${attempt.number} ${attempt.at} ${attempt.outcome} ${attempt.statusCode ?? '-'} ${attempt.result}${attempt.nextAttemptAt ? ` → retry ${attempt.nextAttemptAt}` : ''}`,
    ),
  ];
}

const deliveriesCommand: ClientCommand = {
  usage: 'countersign notifications deliveries [--channel ID] [--status PENDING|RETRYING|DELIVERED|DEAD] [--limit N] [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, { channel: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } }, this.usage);
    noPositionals(positionals, this.usage);
    const status = values.status?.toUpperCase();
    if (status !== undefined && !['PENDING', 'RETRYING', 'DELIVERED', 'DEAD'].includes(status)) {
      throw new CliUsageError('--status must be PENDING, RETRYING, DELIVERED or DEAD', this.usage);
    }
    const first = integerOption(values.limit, 'limit', 20, 1, 200, this.usage);
    const result = await call(values, env, this.usage, 'notificationDeliveries', `
      query ($channelId: ID, $status: NotificationDeliveryStatus, $first: Int) {
        notificationDeliveries(channelId: $channelId, status: $status, first: $first) {
          __typename ... on NotificationDeliveryConnection { nodes { ${DELIVERY} } } ${ERRORS}
        }
      }`, { channelId: values.channel, status, first });
    if (values.json) printJson(result.nodes);
    else if (result.nodes.length === 0) print('No deliveries.');
    else for (const delivery of result.nodes) for (const line of deliveryLines(delivery)) print(line);
    return 0;
  },
};

const replayCommand: ClientCommand = {
  usage: 'countersign notifications replay DELIVERY_ID [--json]',
  async run(argv, env) {
    const { values, positionals } = parseCommand(argv, {}, this.usage);
    const id = onePositional(positionals, 'delivery id', this.usage);
    const result = await call(values, env, this.usage, 'replayNotificationDelivery', `mutation ($id: ID!) { replayNotificationDelivery(id: $id) { __typename ... on ReplayNotificationDeliveryPayload { delivery { ${DELIVERY} } } ${ERRORS} } }`, { id });
    if (values.json) printJson(result.delivery);
    else print(`Replaying ${id}: it is due now, with the same webhook-id.`);
    return 0;
  },
};

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
