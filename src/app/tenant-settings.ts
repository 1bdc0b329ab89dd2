import type { TenantSettings } from '../db/entities/tenant-settings.entity.js';
import type { TenantPolicySettings } from '../policy/index.js';
import { requireRole, type Caller } from './caller.js';
import type { GateDeps } from './deps.js';
import { audit } from './record.js';
import { MAX_TTL_SECONDS, nameList, optionalInteger, optionalNumber, type UpdateTenantSettingsInput } from './inputs.js';
import { tenantSettingsView, type TenantSettingsView } from './views.js';

/** The settings the policy reads for a tenant, from what is stored. */
export function toPolicySettings(settings: TenantSettings): TenantPolicySettings {
  const policy: TenantPolicySettings = { allowlist: settings.allowlist, denylist: settings.denylist };
  if (settings.threshold !== null) policy.threshold = settings.threshold;
  if (settings.requestTtlSeconds !== null) policy.request_ttl_seconds = settings.requestTtlSeconds;
  if (settings.tokenTtlSeconds !== null) policy.token_ttl_seconds = settings.tokenTtlSeconds;
  return policy;
}

export async function tenantSettings(deps: GateDeps, caller: Caller): Promise<TenantSettingsView> {
  requireRole(caller, 'admin', 'approver', 'auditor');
  return tenantSettingsView(caller.tenant, await deps.stores.settings.find(caller.tenant));
}

/** Changes a tenant's policy settings (admins only, audited); the next decision uses them. */
export function updateTenantSettings(deps: GateDeps, caller: Caller, input: UpdateTenantSettingsInput): Promise<TenantSettingsView> {
  requireRole(caller, 'admin');
  const threshold = optionalNumber('threshold', input.threshold, 0, 1);
  // Left out: unchanged; explicit null: the policy default, which for both lists is empty.
  const allowlist = input.allowlist === undefined ? undefined : input.allowlist === null ? [] : nameList('allowlist', input.allowlist);
  const denylist = input.denylist === undefined ? undefined : input.denylist === null ? [] : nameList('denylist', input.denylist);
  const requestTtlSeconds = optionalInteger('requestTtlSeconds', input.requestTtlSeconds, 1, MAX_TTL_SECONDS);
  const tokenTtlSeconds = optionalInteger('tokenTtlSeconds', input.tokenTtlSeconds, 1, MAX_TTL_SECONDS);
  return deps.committer.run(async (unit) => {
    const now = deps.now();
    const settings = await deps.stores.settings.load(unit.em, caller.tenant);
    const before = tenantSettingsView(caller.tenant, settings);
    if (input.threshold !== undefined) settings.threshold = threshold;
    if (allowlist !== undefined) settings.allowlist = allowlist;
    if (denylist !== undefined) settings.denylist = denylist;
    if (input.requestTtlSeconds !== undefined) settings.requestTtlSeconds = requestTtlSeconds;
    if (input.tokenTtlSeconds !== undefined) settings.tokenTtlSeconds = tokenTtlSeconds;
    settings.updatedAt = now;
    settings.updatedBy = caller.subject;
    const after = tenantSettingsView(caller.tenant, settings);
    await audit(deps, unit, caller.tenant, { approvalId: null, contextHash: null }, now, {
      type: 'settings_changed',
      actor: caller.subject,
      previousStatus: null,
      newStatus: null,
      details: { before: { ...before, updatedAt: undefined }, after: { ...after, updatedAt: undefined } },
    });
    unit.afterCommit(() => deps.evaluator.setTenant(caller.tenant, toPolicySettings(settings)));
    return after;
  });
}
