import {
  AlreadyDecidedError,
  ContextMismatchError,
  CountersignError,
  ERROR_CODES,
  ExpiredError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  SelfApprovalError,
  TokenExpiredError,
  TokenInvalidError,
  TokenReplayedError,
  UnauthenticatedError,
} from '../../domain/errors.js';
import { builder } from './builder.js';
import { ApprovalStatusEnum, ExecutionStatusEnum } from './enums.js';

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable codes of expected failures; match on these, not on messages.',
  values: ERROR_CODES,
});

/** Every expected failure implements Error: a stable code and a message for humans. */
export const ErrorInterface = builder.interfaceRef<CountersignError>('Error').implement({
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, resolve: (error) => error.code }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(UnauthenticatedError, {
  name: 'UnauthenticatedError',
  description: 'No valid bearer token was presented.',
  interfaces: [ErrorInterface],
});
builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  description: 'The caller lacks a role this operation needs.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ requiredRoles: t.stringList({ nullable: true, resolve: (error) => error.requiredRoles ?? null }) }),
});
builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'Nothing with this id exists in the caller\'s tenant.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ entity: t.exposeString('entity'), id: t.exposeID('id') }),
});
builder.objectType(InvalidInputError, {
  name: 'InvalidInputError',
  description: 'An argument was missing or malformed; nothing was changed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ field: t.exposeString('field'), problem: t.exposeString('problem') }),
});
builder.objectType(AlreadyDecidedError, {
  name: 'AlreadyDecidedError',
  description: 'The approval is no longer pending, or this approver has already decided it.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    reason: t.exposeString('reason'),
    status: t.field({ type: ApprovalStatusEnum, description: "The approval's current status.", resolve: (error) => error.status }),
    executionStatus: t.field({
      type: ExecutionStatusEnum,
      nullable: true,
      description: 'How the execution ended, when its outcome was reported twice.',
      resolve: (error) => error.executionStatus ?? null,
    }),
  }),
});
builder.objectType(SelfApprovalError, {
  name: 'SelfApprovalError',
  description: 'A requester may not decide its own request.',
  interfaces: [ErrorInterface],
});
builder.objectType(ExpiredError, {
  name: 'ExpiredError',
  description: 'The approval request expired before it was decided.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ expiresAt: t.expose('expiresAt', { type: 'DateTime' }) }),
});
builder.objectType(TokenInvalidError, {
  name: 'TokenInvalidError',
  description: 'The decision token is malformed, not ours, or not for this approval.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ reason: t.exposeString('reason') }),
});
builder.objectType(TokenExpiredError, {
  name: 'TokenExpiredError',
  description: 'The decision token has expired.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ expiredAt: t.expose('expiredAt', { type: 'DateTime' }) }),
});
builder.objectType(TokenReplayedError, {
  name: 'TokenReplayedError',
  description: 'The decision token has already been used.',
  interfaces: [ErrorInterface],
});
builder.objectType(ContextMismatchError, {
  name: 'ContextMismatchError',
  description: 'The presented action context differs from the approved one.',
  interfaces: [ErrorInterface],
  fields: (t) => ({ expectedHash: t.exposeString('expectedHash'), presentedHash: t.exposeString('presentedHash') }),
});
builder.objectType(RateLimitedError, {
  name: 'RateLimitedError',
  description: 'The caller has used up its allowance of this operation for now; nothing was done. Retry after retryAfterSeconds.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    operation: t.exposeString('operation'),
    retryAfterSeconds: t.exposeInt('retryAfterSeconds'),
  }),
});
