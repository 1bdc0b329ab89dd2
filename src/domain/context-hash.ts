import { createHash } from 'node:crypto';

import { canonicalize } from './canonical-json.js';
import { InvalidInputError } from './errors.js';

/** What an agent asks to do: the thing an approval and its decision token are bound to. */
export interface ActionContext {
  /** Tenant the action runs in. */
  tenant: string;
  /** Action name, e.g. `'payments.refund'`. */
  action: string;
  /** Optional identifier of what the action touches; absent and `null` hash the same. */
  resource?: string | null;
  /**
   * The action's parameters, any JSON value (use `{}` or `null` when there are none). It is
   * required so that "no context" is always spelled out rather than silently dropped.
   */
  context: unknown;
}

/**
 * The context hash binding an approval to one exact action: lowercase hex SHA-256 of the UTF-8
 * bytes of the RFC 8785 canonical JSON of `{ action, context, resource, tenant }` (with an absent
 * resource written as `null`). Key order and whitespace in the input do not matter; any change of
 * value does. Throws {@link InvalidInputError} when a part has no canonical JSON form.
 */
export function contextHash({ tenant, action, resource, context }: ActionContext): string {
  if (typeof tenant !== 'string' || tenant === '') {
    throw new InvalidInputError('tenant', 'must be a non-empty string');
  }
  if (typeof action !== 'string' || action === '') {
    throw new InvalidInputError('action', 'must be a non-empty string');
  }
  if (resource !== undefined && resource !== null && typeof resource !== 'string') {
    throw new InvalidInputError('resource', 'must be a string or null');
  }
  if (context === undefined) {
    throw new InvalidInputError('context', 'is required (use {} or null when there is none)');
  }
  const canonical = canonicalize({ tenant, action, resource: resource ?? null, context });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
