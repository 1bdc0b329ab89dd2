import type { EntityManager, MikroORM } from '@mikro-orm/core';
import { TenantSettings } from '../entities/tenant-settings.entity.js';

/** Tenants' policy settings. */
export class SettingsStore {
  constructor(private readonly orm: MikroORM) {}

  all(): Promise<TenantSettings[]> {
    return this.orm.em.fork().find(TenantSettings, {});
  }

  find(tenant: string): Promise<TenantSettings | null> {
    return this.orm.em.fork().findOne(TenantSettings, { tenant });
  }

  /** The tenant's settings in a unit of work, new (and persisted on flush) when there are none. */
  async load(em: EntityManager, tenant: string): Promise<TenantSettings> {
    const settings = (await em.findOne(TenantSettings, { tenant })) ?? new TenantSettings(tenant);
    em.persist(settings);
    return settings;
  }
}
