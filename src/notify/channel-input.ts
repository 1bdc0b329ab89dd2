import { randomBytes } from 'node:crypto';
import { InvalidInputError } from '../domain/errors.js';
import type { NotificationChannelKind } from '../db/entities/notification-channel.entity.js';
import { isNotificationEventType, NOTIFICATION_EVENT_TYPES } from './events.js';

/** Validation of channel settings as admins give them; each failure names its field. */

export const KINDS: readonly NotificationChannelKind[] = ['WEBHOOK', 'SLACK', 'EMAIL'];
export const MAX_RECIPIENTS = 20;
const EMAIL_ADDRESS = /^[^\s@<>(),;:"\\[\]]+@[^\s@<>(),;:"\\[\]]+\.[^\s@<>(),;:"\\[\]]+$/;

/** A fresh Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function channelName(raw: unknown): string {
  const name = typeof raw === 'string' ? raw.trim() : '';
  if (name.length === 0 || name.length > 128) throw new InvalidInputError('name', 'must be 1 to 128 characters');
  return name;
}

export function eventList(raw: readonly string[]): string[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new InvalidInputError('events', `must name at least one of ${NOTIFICATION_EVENT_TYPES.join(', ')}`);
  const unknown = raw.find((event) => !isNotificationEventType(event));
  if (unknown !== undefined) throw new InvalidInputError('events', `"${unknown}" is not one of ${NOTIFICATION_EVENT_TYPES.join(', ')}`);
  return [...new Set(raw)];
}

export function recipients(raw: readonly string[] | null | undefined): string[] {
  if (!raw || raw.length === 0) throw new InvalidInputError('emailTo', 'an email channel needs at least one address');
  if (raw.length > MAX_RECIPIENTS) throw new InvalidInputError('emailTo', `at most ${MAX_RECIPIENTS} addresses`);
  const addresses = raw.map((address) => address.trim());
  const bad = addresses.find((address) => address.length > 254 || !EMAIL_ADDRESS.test(address));
  if (bad !== undefined) throw new InvalidInputError('emailTo', `"${bad}" is not an email address`);
  return [...new Set(addresses)];
}

export function leadTime(raw: number | null | undefined, fallback: number): number {
  if (raw === undefined || raw === null) return fallback;
  if (!Number.isInteger(raw) || raw < 1 || raw > 86_400) throw new InvalidInputError('expiringBeforeSeconds', 'must be a whole number of seconds from 1 to 86400');
  return raw;
}
