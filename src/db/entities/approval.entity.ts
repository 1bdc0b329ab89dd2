import { Collection, EntitySchema, type Opt } from '@mikro-orm/core';
import type { ApprovalStatus } from '../../domain/approval-state.js';
import { BaseRecord } from './base.entity.js';
import type { Vote } from './vote.entity.js';

/** A stored reason: the rule id the policy gave, its message and the context keys it rested on. */
export interface StoredReason {
  ruleId: string;
  message: string;
  /** Context keys, as the request spelled them; absent on requests recorded before policies named them. */
  fields?: string[];
}

/** Everything an agent asked for, with the policy's decision on it. */
export interface ApprovalRequestFields {
  tenant: string;
  action: string;
  resource: string | null;
  context: Record<string, unknown>;
  contextHash: string;
  agent: string | null;
  sessionId: string | null;
  requesterSubject: string;
  confidence: number | null;
  estimatedDurationMinutes: number | null;
  priority: string | null;
  source: string | null;
  idempotencyKey: string | null;
  status: ApprovalStatus;
  riskScore: number;
  riskLevel: string;
  reasons: StoredReason[];
  requiredApprovals: number;
  approverRoles: string[];
  escalated: boolean;
  expiresAt: Date;
  tokenTtlSeconds: number;
  policyRevision: string;
}

/** The class carries the fields of {@link ApprovalRequestFields} without restating them (declaration merging). */
export interface Approval extends ApprovalRequestFields {}

/** One approval request and its life: pending, decided, executed. */
export class Approval extends BaseRecord {
  decidedAt: Date | null = null;
  /*
   * The decision token itself is never stored (a copy of the database must hold no usable
   * token): only its claims beyond the request's own fields. EdDSA signatures are deterministic,
   * so signing these claims again with the same key re-creates the very same token.
   */
  tokenJti: string | null = null;
  tokenIssuedAt: Date | null = null;
  tokenExpiresAt: Date | null = null;
  /** The signing key of the token (RFC 7638 thumbprint, the JWKS `kid`). */
  tokenKid: string | null = null;
  version: number & Opt = 1;
  decisions = new Collection<Vote>(this);

  constructor(fields: ApprovalRequestFields) {
    super();
    Object.assign(this, fields);
  }
}

export const ApprovalSchema = new EntitySchema<Approval, BaseRecord>({
  class: Approval,
  tableName: 'approval',
  indexes: [
    // Ending in the id, a listing's tie-breaker, so a page is read in order (Migration20261204ListingOrder).
    { properties: ['tenant', 'status', 'createdAt', 'id'] },
    { properties: ['tenant', 'createdAt', 'id'] },
    { properties: ['status', 'expiresAt'] },
  ],
  uniques: [{ properties: ['tenant', 'requesterSubject', 'idempotencyKey'] }],
  properties: {
    tenant: { type: 'string', length: 128 },
    action: { type: 'string', length: 256 },
    resource: { type: 'string', length: 1024, nullable: true },
    context: { type: 'json' },
    contextHash: { type: 'string', length: 64 },
    agent: { type: 'string', length: 256, nullable: true },
    sessionId: { type: 'string', length: 256, nullable: true },
    requesterSubject: { type: 'string', length: 256 },
    confidence: { type: 'double', nullable: true },
    estimatedDurationMinutes: { type: 'double', nullable: true },
    priority: { type: 'string', length: 32, nullable: true },
    source: { type: 'string', length: 64, nullable: true },
    idempotencyKey: { type: 'string', length: 256, nullable: true },
    status: { type: 'string', length: 16 },
    riskScore: { type: 'integer' },
    riskLevel: { type: 'string', length: 16 },
    reasons: { type: 'json' },
    requiredApprovals: { type: 'integer' },
    approverRoles: { type: 'json' },
    escalated: { type: 'boolean' },
    expiresAt: { type: 'datetime' },
    tokenTtlSeconds: { type: 'integer' },
    policyRevision: { type: 'string', length: 64 },
    decidedAt: { type: 'datetime', nullable: true },
    tokenJti: { type: 'string', length: 64, nullable: true, unique: true },
    tokenIssuedAt: { type: 'datetime', nullable: true },
    tokenExpiresAt: { type: 'datetime', nullable: true },
    tokenKid: { type: 'string', length: 64, nullable: true },
    version: { type: 'integer', version: true },
    decisions: { kind: '1:m', entity: () => 'Vote', mappedBy: 'approval', orderBy: { createdAt: 'asc' } },
  },
});
