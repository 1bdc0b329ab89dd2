import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { contextHash, type ActionContext } from '../../src/domain/context-hash.js';
import { InvalidInputError } from '../../src/domain/errors.js';

// The worked example of the README's "Context binding" section. The expected hash was also
// recomputed outside this code with:
//   printf '%s' '{"action":"payments.refund","context":{"amount":125.5,"currency":"EUR","reason":"damaged item"},"resource":"order/1234","tenant":"acme"}' | sha256sum
const WORKED_EXAMPLE_JSON = `{
  "tenant": "acme",
  "context": { "reason": "damaged item", "currency": "EUR", "amount": 125.50 },
  "action": "payments.refund",
  "resource": "order/1234"
}`;
const WORKED_EXAMPLE_CANONICAL =
  '{"action":"payments.refund","context":{"amount":125.5,"currency":"EUR","reason":"damaged item"},"resource":"order/1234","tenant":"acme"}';
const WORKED_EXAMPLE_HASH = 'b5aa62896a7efc845aeff5054bbbbe9755b50540f8118bbf180331a5b2135c42';

describe('contextHash', () => {
  it('hashes the worked example to the published value', () => {
    expect(contextHash(JSON.parse(WORKED_EXAMPLE_JSON) as ActionContext)).toBe(WORKED_EXAMPLE_HASH);
  });

  it('is the SHA-256 of the canonical JSON text', () => {
    expect(createHash('sha256').update(WORKED_EXAMPLE_CANONICAL).digest('hex')).toBe(WORKED_EXAMPLE_HASH);
  });

  it('does not depend on key order or whitespace', () => {
    const reordered = JSON.parse(
      '{"resource":"order/1234","action":"payments.refund","context":{"amount":125.5,"reason":"damaged item","currency":"EUR"},"tenant":"acme"}',
    ) as ActionContext;
    expect(contextHash(reordered)).toBe(WORKED_EXAMPLE_HASH);
  });

  it('treats an absent resource and a null resource the same', () => {
    const base = { tenant: 'acme', action: 'deploy', context: { service: 'api' } };
    expect(contextHash(base)).toBe(contextHash({ ...base, resource: null }));
    expect(contextHash(base)).toBe(contextHash({ ...base, resource: undefined }));
  });

  it('changes when any part of the action changes', () => {
    const base: ActionContext = { tenant: 'acme', action: 'deploy', resource: 'svc/api', context: { version: 1 } };
    const hashes = new Set([
      contextHash(base),
      contextHash({ ...base, tenant: 'acme2' }),
      contextHash({ ...base, action: 'deploy2' }),
      contextHash({ ...base, resource: 'svc/web' }),
      contextHash({ ...base, resource: null }),
      contextHash({ ...base, context: { version: 2 } }),
      contextHash({ ...base, context: { version: '1' } }),
    ]);
    expect(hashes.size).toBe(7);
  });

  it('produces 64 lowercase hexadecimal characters', () => {
    expect(contextHash({ tenant: 't', action: 'a', context: null })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a missing context, an empty tenant or action, and contexts with no JSON form', () => {
    const refusals: [() => string, string][] = [
      [() => contextHash({ tenant: 'acme', action: 'deploy', context: undefined }), 'context'],
      [() => contextHash({ tenant: '', action: 'deploy', context: {} }), 'tenant'],
      [() => contextHash({ tenant: 'acme', action: '', context: {} }), 'action'],
      [() => contextHash({ tenant: 'acme', action: 'deploy', context: { at: new Date(0) } }), '$.context.at'],
      [() => contextHash({ tenant: 'acme', action: 'deploy', context: { amount: Infinity } }), '$.context.amount'],
    ];
    for (const [attempt, field] of refusals) {
      expect(attempt).toThrow(InvalidInputError);
      try {
        attempt();
      } catch (error) {
        expect((error as InvalidInputError).field).toBe(field);
      }
    }
  });
});
