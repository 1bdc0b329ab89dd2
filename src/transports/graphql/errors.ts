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
import type { ObjectFieldsShape } from '@pothos/core';
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

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer BuilderTypes> ? BuilderTypes : never;

/** One member of the result unions: named after its error class, implementing Error, with the fields it adds. */
function errorType<Shape extends CountersignError>(
  errorClass: new (...args: any[]) => Shape,
  description: string,
  fields?: ObjectFieldsShape<Types, Shape>,
): void {
  // Pothos cannot tell that a generic Shape extends the interface's shape: the casts say it, and the
  // signature above keeps each call's fields checked against its own class.
  builder.objectType(errorClass as new (...args: any[]) => CountersignError, {
    name: errorClass.name,
    description,
    interfaces: [ErrorInterface],
    ...(fields && { fields: fields as unknown as ObjectFieldsShape<Types, CountersignError> }),
  });
}

errorType(UnauthenticatedError, 'No valid bearer token was presented.');
errorType(ForbiddenError, 'The caller lacks a role this operation needs.', (t) => ({
  requiredRoles: t.stringList({ nullable: true, resolve: (error) => error.requiredRoles ?? null }),
}));
errorType(NotFoundError, 'Nothing with this id exists in the caller\'s tenant.', (t) => ({
  entity: t.exposeString('entity'),
  id: t.exposeID('id'),
}));
errorType(InvalidInputError, 'An argument was missing or malformed; nothing was changed.', (t) => ({
  field: t.exposeString('field'),
  problem: t.exposeString('problem'),
}));
errorType(AlreadyDecidedError, 'The approval is no longer pending, or this approver has already decided it.', (t) => ({
  reason: t.exposeString('reason'),
  status: t.field({ type: ApprovalStatusEnum, description: "The approval's current status.", resolve: (error) => error.status }),
  executionStatus: t.field({
    type: ExecutionStatusEnum,
    nullable: true,
    description: 'How the execution ended, when its outcome was reported twice.',
    resolve: (error) => error.executionStatus ?? null,
  }),
}));
errorType(SelfApprovalError, 'A requester may not decide its own request.');
errorType(ExpiredError, 'The approval request expired before it was decided.', (t) => ({
  expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
}));
errorType(TokenInvalidError, 'The decision token is malformed, not ours, or not for this approval.', (t) => ({
  reason: t.exposeString('reason'),
}));
errorType(TokenExpiredError, 'The decision token has expired.', (t) => ({
  expiredAt: t.expose('expiredAt', { type: 'DateTime' }),
}));
errorType(TokenReplayedError, 'The decision token has already been used.');
errorType(ContextMismatchError, 'The presented action context differs from the approved one.', (t) => ({
  expectedHash: t.exposeString('expectedHash'),
  presentedHash: t.exposeString('presentedHash'),
}));
errorType(
  RateLimitedError,
  'The caller has used up its allowance of this operation for now; nothing was done. Retry after retryAfterSeconds.',
  (t) => ({
    operation: t.exposeString('operation'),
    retryAfterSeconds: t.exposeInt('retryAfterSeconds'),
  }),
);
