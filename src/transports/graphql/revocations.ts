import type { Revocation } from '../../db/stores/revocation-store.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';

const CallerRevocationRef = builder.objectRef<Revocation>('CallerRevocation').implement({
  description: "A subject's caller tokens issued at or before revokedBefore: refused, their subscriptions ended.",
  fields: (t) => ({
    tenant: t.exposeString('tenant'),
    subject: t.exposeString('subject'),
    revokedBefore: t.expose('revokedBefore', { type: 'DateTime' }),
  }),
});

builder.mutationFields((t) => ({
  revokeCallerTokens: t.field({
    type: CallerRevocationRef,
    description:
      "Revokes every caller token of a subject of the admin's tenant issued until now (one issued in the same second " +
      'included): its requests are refused and its subscriptions end, on every instance within the expiry sweep ' +
      '(COUNTERSIGN_EXPIRY_SWEEP_MS). For an approver who was removed before the tokens the identity provider gave it ' +
      'expire; tokens issued later are accepted. Admins only; audited.',
    errors: {},
    args: { subject: t.arg.string({ required: true }) },
    resolve: async (_root, { subject }, context) => {
      const revocation = await context.gate.revokeCallerTokens(callerOf(context), { subject });
      context.applyCallerRevocation?.(revocation);
      return revocation;
    },
  }),
}));
