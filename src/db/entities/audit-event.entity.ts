import { EntitySchema } from '@mikro-orm/core';

/** The fields an audit event is written with; the chain position and hashes are added on append. */
export interface AuditEventFields {
  tenant: string;
  type: string;
  approvalId: string | null;
  actor: string;
  previousStatus: string | null;
  newStatus: string | null;
  details: Record<string, unknown>;
  occurredAt: Date;
}

/** The class carries the fields of {@link AuditEventFields} without restating them (declaration merging). */
export interface AuditEvent extends AuditEventFields {}

/**
 * One link of a tenant's tamper-evident audit chain: `hash` covers this event's fields and
 * `previousHash`, so altering or removing any row breaks every later link.
 */
export class AuditEvent {
  id!: string;
  seq!: number;
  previousHash!: string;
  hash!: string;

  constructor(fields: AuditEventFields & { id: string; seq: number; previousHash: string; hash: string }) {
    Object.assign(this, fields);
  }
}

export const AuditEventSchema = new EntitySchema<AuditEvent>({
  class: AuditEvent,
  tableName: 'audit_event',
  uniques: [{ properties: ['tenant', 'seq'] }],
  indexes: [
    { properties: ['tenant', 'approvalId', 'seq'] },
    { properties: ['tenant', 'type', 'seq'] },
    { properties: ['tenant', 'occurredAt'] },
  ],
  properties: {
    id: { type: 'string', primary: true, length: 36 },
    tenant: { type: 'string', length: 128 },
    seq: { type: 'integer' },
    type: { type: 'string', length: 32 },
    approvalId: { type: 'string', length: 36, nullable: true },
    actor: { type: 'string', length: 256 },
    previousStatus: { type: 'string', length: 16, nullable: true },
    newStatus: { type: 'string', length: 16, nullable: true },
    details: { type: 'json' },
    occurredAt: { type: 'datetime' },
    previousHash: { type: 'string', length: 64 },
    hash: { type: 'string', length: 64 },
  },
});
