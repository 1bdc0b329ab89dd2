import {
  ApprovalDeniedError,
  ApprovalExpiredError,
  ApprovalRejectedError,
  CountersignClientError,
  RefusedError,
  TransportError,
  isServerCode,
} from './errors.js';
import type { Approval } from './types.js';

/** A member of a result union, told apart by its `__typename`. */
interface Typed {
  __typename: string;
}

/** setTimeout's delay is a signed 32-bit number of milliseconds; longer waits are chained. */
const MAX_TIMER_MS = 2_147_483_647;

/** The token when `approval` may run; null while it waits; throws when it never will. */
export function outcome(approval: Approval, token: string | null): string | null {
  switch (approval.status) {
    case 'PENDING':
      return null;
    case 'APPROVED': {
      const decisionToken = token ?? approval.decisionToken;
      if (decisionToken) return decisionToken;
      throw new TransportError(`Approval ${approval.id} is approved but its token was not returned to its requester.`);
    }
    case 'DENIED':
      throw new ApprovalDeniedError(approval);
    case 'REJECTED':
      throw new ApprovalRejectedError(approval);
    case 'EXPIRED':
      throw new ApprovalExpiredError(approval);
    case 'EXECUTED':
    case 'FAILED':
      throw new RefusedError('TOKEN_REPLAYED', `Approval ${approval.id} has already been executed (${approval.status}).`, {
        status: approval.status,
      });
  }
}

/** The member of union `U` named `N`, without its `__typename`. */
type Member<U extends Typed, N extends U['__typename']> = Omit<Extract<U, { __typename: N }>, '__typename'>;

/** The success member of a result union, or its typed error thrown as a {@link RefusedError}. */
export function unwrap<U extends Typed, N extends U['__typename']>(result: U, expected: N): Member<U, N> {
  if (result.__typename === expected) {
    const { __typename: _typename, ...value } = result;
    return value as unknown as Member<U, N>;
  }
  const { __typename: typename, code, message, ...details } = result as Typed & { code?: unknown; message?: unknown } & Record<string, unknown>;
  if (isServerCode(code)) {
    return throwing(new RefusedError(code, typeof message === 'string' ? message : code, details));
  }
  return throwing(new TransportError(`Unexpected result type ${typename} (expected ${expected}).`));
}

function throwing(error: CountersignClientError): never {
  throw error;
}

/** Runs `callback` after `ms` milliseconds (however long); returns the function that cancels it. */
export function later(ms: number, callback: () => void): () => void {
  let handle: ReturnType<typeof setTimeout>;
  const arm = (remaining: number) => {
    handle = setTimeout(() => (remaining > MAX_TIMER_MS ? arm(remaining - MAX_TIMER_MS) : callback()), Math.min(remaining, MAX_TIMER_MS));
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(handle);
}
