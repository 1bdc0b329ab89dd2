import { GraphQLError } from 'graphql';
import type { Caller } from '../../app/caller.js';
import type { Gate } from '../../app/gate.js';
import { CountersignError, UnauthenticatedError } from '../../domain/errors.js';
import type { ChangeFeed } from '../../feed/feed.js';
import type { NotificationChannels } from '../../notify/channel-admin.js';

/** What every resolver receives; the same factory serves HTTP, SSE and WebSocket. */
export interface Context {
  gate: Gate;
  changes: ChangeFeed;
  notifications: NotificationChannels;
  /** The verified caller, or the typed reason there is none. */
  caller: Caller | UnauthenticatedError;
  /** When the caller's token expires (epoch ms, clock tolerance included); subscriptions end then. */
  callerExpiresAtMs?: number | null;
  /** Aborts when the caller's token is revoked before it expires (its signing key withdrawn); subscriptions end then. */
  callerRevoked?: AbortSignal | null;
  /** Bytes of changes held for a subscriber that is not reading before its subscription ends. */
  subscriberBufferBytes?: number;
  /** Applies a revocation this instance committed to its authenticator at once. */
  applyCallerRevocation?: (revocation: { tenant: string; subject: string; revokedBefore: Date }) => void;
}

/** The caller, or the UNAUTHENTICATED failure the field reports as a typed result. */
export function callerOf(context: Context): Caller {
  if (context.caller instanceof UnauthenticatedError) throw context.caller;
  return context.caller;
}

/** For fields that have no result union: an authentication failure as a coded GraphQL error. */
export function callerOrGraphQLError(context: Context): Caller {
  if (context.caller instanceof CountersignError) {
    throw new GraphQLError(context.caller.message, { extensions: { code: context.caller.code } });
  }
  return context.caller;
}
