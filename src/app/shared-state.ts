import type { MikroORM } from '@mikro-orm/core';
import type { KeyRing } from '../db/keyring.js';
import { readSharedVersions } from '../db/shared-versions.js';
import type { SettingsStore } from '../db/stores/settings-store.js';
import type { PolicyEvaluator } from '../policy/index.js';
import { toPolicySettings } from './tenant-settings.js';

/** What an instance holds in memory of a tenant's state: the versions it last applied. */
interface Slot {
  running: Promise<void> | null;
  /** The read that starts once `running` is done, shared by every caller that arrived meanwhile. */
  waiting: Promise<void> | null;
}

/**
 * Keeps what an instance holds in memory current when other instances write the same database
 * (PostgreSQL): the tenant settings the policy evaluates with and the signing keys that sign and
 * verify decision tokens. A use case that decides, signs or verifies first calls {@link current},
 * which reads the tenant's settings version and the key ring's shape in one query and reloads
 * whichever changed; so settings changed or keys rotated on another instance apply here from the
 * next decision on, with no broker and no polling interval to wait for.
 *
 * Concurrent callers share reads, but never one that started before they arrived (it might miss a
 * change committed just before them): a caller joins the next read, so at most two run per
 * tenant, however many requests arrive.
 */
export class SharedState {
  private readonly slots = new Map<string, Slot>();
  /** Per tenant, the settings version applied to the policy (null: none stored). */
  private readonly appliedSettings = new Map<string, number | null>();
  private appliedKeys: string | null = null;

  constructor(
    private readonly orm: MikroORM,
    private readonly settings: SettingsStore,
    private readonly evaluator: PolicyEvaluator,
    private readonly keys: KeyRing,
  ) {}

  /** Resolves once the tenant's settings and the signing keys are as committed when it was called. */
  current(tenant: string): Promise<void> {
    let slot = this.slots.get(tenant);
    if (!slot) this.slots.set(tenant, (slot = { running: null, waiting: null }));
    if (slot.waiting) return slot.waiting;
    if (!slot.running) return this.start(slot, tenant);
    const ready = slot;
    const settle = () => {
      ready.waiting = null;
      return this.start(ready, tenant);
    };
    slot.waiting = slot.running.then(settle, settle);
    return slot.waiting;
  }

  private start(slot: Slot, tenant: string): Promise<void> {
    const read = this.read(tenant).finally(() => {
      if (slot.running === read) slot.running = null;
    });
    slot.running = read;
    return read;
  }

  private async read(tenant: string): Promise<void> {
    const versions = await readSharedVersions(this.orm, tenant);
    if (versions.keys !== this.appliedKeys) {
      await this.keys.refresh();
      this.appliedKeys = versions.keys;
    }
    if (!this.appliedSettings.has(tenant) || this.appliedSettings.get(tenant) !== versions.settings) {
      const stored = await this.settings.find(tenant);
      this.evaluator.setTenant(tenant, stored ? toPolicySettings(stored) : { allowlist: [], denylist: [] });
      this.appliedSettings.set(tenant, stored?.version ?? null);
    }
  }
}
