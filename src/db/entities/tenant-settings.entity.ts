import { EntitySchema, type Opt } from '@mikro-orm/core';

/** A tenant's policy settings, handed to the policy as data; absent fields take the policy's defaults. */
export class TenantSettings {
  threshold: number | null = null;
  allowlist: string[] & Opt = [];
  denylist: string[] & Opt = [];
  requestTtlSeconds: number | null = null;
  tokenTtlSeconds: number | null = null;
  updatedAt: Date & Opt = new Date();
  updatedBy: string | null = null;
  version: number & Opt = 1;

  constructor(public tenant: string) {}
}

export const TenantSettingsSchema = new EntitySchema<TenantSettings>({
  class: TenantSettings,
  tableName: 'tenant_settings',
  properties: {
    tenant: { type: 'string', primary: true, length: 128 },
    threshold: { type: 'double', nullable: true },
    allowlist: { type: 'json' },
    denylist: { type: 'json' },
    requestTtlSeconds: { type: 'integer', nullable: true },
    tokenTtlSeconds: { type: 'integer', nullable: true },
    updatedAt: { type: 'datetime' },
    updatedBy: { type: 'string', length: 256, nullable: true },
    version: { type: 'integer', version: true },
  },
});
