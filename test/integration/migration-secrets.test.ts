/**
 * The migration that stops storing decision tokens keeps, on both dialects, what re-creating them
 * needs: each stored token's `kid` and `iat` become `token_kid` and `token_issued_at`, and the
 * token column is gone.
 */
import { randomUUID } from 'node:crypto';
import { MikroORM } from '@mikro-orm/core';
import { describe, expect, it } from 'vitest';
import { ormOptions, type DatabaseOptions } from '../../src/db/orm.js';
import { generateSigningKey, signDecisionToken } from '../../src/domain/decision-token.js';
import { createTestDatabase } from '../support/services.js';

async function migrateWithStoredToken(options: DatabaseOptions, quote: (name: string) => string) {
  const orm = await MikroORM.init(ormOptions(options));
  try {
    const migrator = orm.getMigrator();
    await migrator.up({ to: 'Migration20261201ServerLease' });
    const key = await generateSigningKey();
    const id = randomUUID();
    const issuedAt = new Date('2026-11-30T10:00:00.000Z');
    const expiresAt = new Date('2026-11-30T10:05:00.000Z');
    const token = await signDecisionToken(key, {
      approvalId: id,
      tenant: 'acme',
      action: 'payment',
      contextHash: 'a'.repeat(64),
      policyRevision: 'rev',
      issuer: 'urn:countersign:local',
      audience: 'urn:countersign:execute',
      jti: randomUUID(),
      issuedAt,
      expiresAt,
    });
    const columns = [
      ['id', id], ['created_at', issuedAt], ['updated_at', issuedAt], ['tenant', 'acme'], ['action', 'payment'], ['context', '{}'],
      ['context_hash', 'a'.repeat(64)], ['requester_subject', 'bot'], ['status', 'APPROVED'], ['risk_score', 1], ['risk_level', 'low'],
      ['reasons', '[]'], ['required_approvals', 0], ['approver_roles', '[]'], ['escalated', false], ['expires_at', expiresAt],
      ['token_ttl_seconds', 300], ['policy_revision', 'rev'], ['decision_token', token], ['token_expires_at', expiresAt],
    ] as const;
    const connection = orm.em.getConnection();
    await connection.execute(
      `insert into ${quote('approval')} (${columns.map(([name]) => quote(name)).join(', ')}) values (${columns.map(() => '?').join(', ')})`,
      columns.map(([name, value]) => (value instanceof Date && options.driver !== 'postgresql' ? value.getTime() : name === 'escalated' && options.driver !== 'postgresql' ? 0 : value)),
    );
    await migrator.up();
    const [row] = await connection.execute<Record<string, unknown>[]>(`select * from ${quote('approval')} where ${quote('id')} = ?`, [id]);
    const issued = row?.['token_issued_at'];
    return { row: row as Record<string, unknown>, kid: key.kid, issuedAt: issued instanceof Date ? issued.getTime() : typeof issued === 'string' ? Date.parse(issued) : Number(issued) };
  } finally {
    await orm.close(true);
  }
}

describe('the migration that stops storing decision tokens', () => {
  it('keeps each stored token’s kid and issue time on SQLite and drops the token', async () => {
    const { row, kid, issuedAt } = await migrateWithStoredToken({ driver: 'better-sqlite', path: ':memory:' }, (name) => `\`${name}\``);
    expect(row['token_kid']).toBe(kid);
    expect(issuedAt).toBe(Date.parse('2026-11-30T10:00:00.000Z'));
    expect(row).not.toHaveProperty('decision_token');
  });

  it('keeps each stored token’s kid and issue time on PostgreSQL and drops the token', async () => {
    const database = await createTestDatabase();
    try {
      const { row, kid, issuedAt } = await migrateWithStoredToken({ driver: 'postgresql', url: database.url }, (name) => `"${name}"`);
      expect(row['token_kid']).toBe(kid);
      expect(issuedAt).toBe(Date.parse('2026-11-30T10:00:00.000Z'));
      expect(row).not.toHaveProperty('decision_token');
    } finally {
      await database.drop();
    }
  });
});
