import type { NotificationDelivery } from '../db/entities/notification-delivery.entity.js';
import type { NotifyConfig } from './config.js';
import { ChannelConnections } from './http-post.js';
import type { ChannelRow } from './outbox.js';
import { channelSecretAad, type SecretBox } from './secret-box.js';

/** A delivery leased by this dispatcher, waiting for a free slot of its channel. */
export interface Claimed {
  delivery: NotificationDelivery;
  leaseToken: string;
  leaseUntil: number;
}

/** One channel's share of the dispatcher. */
export interface Lane {
  channel: ChannelRow;
  /** The channel's signing secret, opened once per sealed value. */
  opened: { sealed: string; secret: string } | null;
  /** The channel's kept-alive connections, closed when the lane is given up and its last attempt is done. */
  connections: ChannelConnections;
  /** Deliveries claimed and not yet attempted, the longest waiting first. */
  queue: Claimed[];
  /** Attempts being sent. */
  inFlight: number;
  /** Attempts sent whose outcomes are not written yet. */
  recording: number;
  /** The database may hold due deliveries of this channel that nobody has claimed. */
  due: boolean;
  /** Counts the times `due` was set, so that a claim that began before one does not clear it. */
  dueMarks: number;
  /** A claim or a lease renewal is under way (one at a time per channel). */
  busy: boolean;
  retryTimer: NodeJS.Timeout | undefined;
  retryAt: number;
}

/** A lane for a channel just found enabled: due, so that its first claim looks at once. */
export function newLane(channel: ChannelRow, config: NotifyConfig): Lane {
  return {
    channel,
    opened: null,
    connections: new ChannelConnections(config.concurrencyPerChannel, config.allowPrivate),
    queue: [],
    inFlight: 0,
    recording: 0,
    due: true,
    dueMarks: 0,
    busy: false,
    retryTimer: undefined,
    retryAt: Number.POSITIVE_INFINITY,
  };
}

/** The channel's signing secret (or Slack URL), opened from its sealed form once per sealed value. */
export function laneSecret(lane: Lane, secrets: SecretBox): string | null {
  const sealed = lane.channel.sealedSecret;
  if (sealed === null) return null;
  if (lane.opened?.sealed !== sealed) lane.opened = { sealed, secret: secrets.open(sealed, channelSecretAad(lane.channel.id)) };
  return lane.opened.secret;
}
