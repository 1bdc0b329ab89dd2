// Typed refusals and times in plain words.
import { CountersignClientError, RefusedError } from '../../src/client/core.js';

export function plainError(error: unknown): string {
  if (error instanceof RefusedError) {
    switch (error.code) {
      case 'SELF_APPROVAL':
        return 'You requested this action yourself, so someone else must decide it.';
      case 'ALREADY_DECIDED':
        return 'This request has already been decided, or you have already voted on it.';
      case 'EXPIRED':
        return 'This request expired before it was decided.';
      case 'FORBIDDEN': {
        const roles = error.details['requiredRoles'];
        return `You may not decide this request${Array.isArray(roles) && roles.length ? `: it needs the role ${roles.join(' or ')}` : ''}.`;
      }
      case 'NOT_FOUND':
        return 'This request no longer exists in your tenant.';
      case 'UNAUTHENTICATED':
        return 'Your sign-in is invalid or has expired. Sign out and sign in again.';
      case 'INVALID_INPUT':
        return `The server refused the input: ${error.message}`;
      default:
        return `${error.code}: ${error.message}`;
    }
  }
  if (error instanceof CountersignClientError) return `The server could not be reached or failed (${error.message}).`;
  return error instanceof Error ? error.message : String(error);
}

/** "4m 05s left", "expired". */
export function timeLeft(expiresAt: string, now: number): string {
  const seconds = Math.floor((Date.parse(expiresAt) - now) / 1000);
  if (seconds <= 0) return 'expired';
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m left`;
  return `${minutes}m ${String(rest).padStart(2, '0')}s left`;
}

export const when = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : '—');

export const HIGH_RISK = new Set(['high', 'critical']);
