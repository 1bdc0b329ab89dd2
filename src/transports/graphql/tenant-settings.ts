import type { TenantSettingsView } from '../../app/views.js';
import { builder } from './builder.js';
import { callerOf } from './context.js';

const TenantSettingsRef = builder.objectRef<TenantSettingsView>('TenantSettings').implement({
  description: 'A tenant\'s policy settings; null fields take the policy\'s defaults.',
  fields: (t) => ({
    tenant: t.exposeString('tenant'),
    threshold: t.exposeFloat('threshold', { nullable: true, description: 'Confidence at or above which a request is allowed (default 0.85).' }),
    allowlist: t.exposeStringList('allowlist'),
    denylist: t.exposeStringList('denylist'),
    requestTtlSeconds: t.exposeInt('requestTtlSeconds', { nullable: true }),
    tokenTtlSeconds: t.exposeInt('tokenTtlSeconds', { nullable: true }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', nullable: true }),
    updatedBy: t.exposeString('updatedBy', { nullable: true }),
  }),
});

const UpdateTenantSettingsInput = builder.inputType('UpdateTenantSettingsInput', {
  description: 'Fields left out stay as they are; an explicit null restores the policy default.',
  fields: (t) => ({
    threshold: t.float(),
    allowlist: t.stringList(),
    denylist: t.stringList(),
    requestTtlSeconds: t.int(),
    tokenTtlSeconds: t.int(),
  }),
});

builder.queryFields((t) => ({
  tenantSettings: t.field({
    type: TenantSettingsRef,
    errors: {},
    resolve: (_root, _args, context) => context.gate.tenantSettings(callerOf(context)),
  }),
}));

builder.mutationFields((t) => ({
  updateTenantSettings: t.field({
    type: TenantSettingsRef,
    description: 'Changes the tenant\'s policy settings; the next decision uses them. Admins only; audited.',
    errors: {},
    args: { input: t.arg({ type: UpdateTenantSettingsInput, required: true }) },
    resolve: (_root, { input }, context) => context.gate.updateTenantSettings(callerOf(context), input),
  }),
}));
