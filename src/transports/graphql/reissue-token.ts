import type { ReissueTokenResult } from '../../app/reissue-token.js';
import { ExpiredError, NotFoundError } from '../../domain/errors.js';
import { ApprovalRef } from './approval.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';

const ReissueTokenPayload = builder.objectRef<ReissueTokenResult>('ReissueTokenPayload').implement({
  fields: (t) => ({
    approval: t.field({ type: ApprovalRef, resolve: (payload) => payload.approval }),
    token: t.exposeString('token', { description: 'The fresh decision token; the previous one can no longer execute.' }),
  }),
});

builder.mutationFields((t) => ({
  reissueToken: t.field({
    type: ReissueTokenPayload,
    description:
      'For the requester of an APPROVED request whose decision token expired unused: a fresh token, while the request\'s ' +
      'own window (expiresAt) is open. Audited; the old token is dead. After the window the request cannot be executed.',
    errors: { types: [NotFoundError, ExpiredError] },
    args: { approvalId: t.arg.id({ required: true }) },
    resolve: (_root, { approvalId }, context) => context.gate.reissueToken(callerOf(context), String(approvalId)),
  }),
}));
