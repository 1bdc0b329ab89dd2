import { ForbiddenError } from '../domain/errors.js';

/** The roles a caller's bearer token may carry. */
export const ROLES = ['agent', 'approver', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: verified from the bearer token, and the only source of the tenant. */
export interface Caller {
  subject: string;
  tenant: string;
  roles: readonly string[];
}

/** Throws FORBIDDEN unless the caller holds one of `roles`. */
export function requireRole(caller: Caller, ...roles: Role[]): void {
  if (!roles.some((role) => caller.roles.includes(role))) throw new ForbiddenError(roles);
}

export function hasRole(caller: Caller, ...roles: string[]): boolean {
  return roles.some((role) => caller.roles.includes(role));
}
