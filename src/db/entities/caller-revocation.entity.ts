import { defineEntity, type InferEntity } from '@mikro-orm/core';

/**
 * An admin's revocation of a subject's caller tokens: every token of `subject` in `tenant` issued
 * at or before `revokedBefore` is refused, and the subscriptions it holds end. Caller tokens are
 * stateless JWTs that live until they expire: this is how an approver who was removed loses
 * access before then. A token issued later (access granted again) is accepted.
 */
export const CallerRevocationSchema = defineEntity({
  name: 'CallerRevocation',
  tableName: 'caller_revocation',
  properties: (p) => ({
    tenant: p.string().primary().length(128),
    subject: p.string().primary().length(256),
    revokedBefore: p.datetime(),
    revokedBy: p.string().length(256),
  }),
});

/** A revocation row; its type is inferred from the schema, which states each field once. */
export type CallerRevocation = InferEntity<typeof CallerRevocationSchema>;
