import type { MikroORM } from '@mikro-orm/core';

/** What tells an instance that another one changed state it holds in memory. */
export interface SharedVersions {
  /** The tenant's settings row version, null when it has none. */
  settings: number | null;
  /** Changes whenever a key is added or retired. */
  keys: string;
}

/** One round trip: the tenant's settings version and the key ring's shape (keys, retired keys). */
export async function readSharedVersions(orm: MikroORM, tenant: string): Promise<SharedVersions> {
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<{ settings: number | string | null; key_count: number | string; retired_count: number | string }[]>(
      'select (select version from tenant_settings where tenant = ?) as settings, ' +
        '(select count(*) from signing_key) as key_count, (select count(retired_at) from signing_key) as retired_count',
      [tenant],
      'all',
    );
  return {
    settings: row?.settings === null || row?.settings === undefined ? null : Number(row.settings),
    keys: `${String(row?.key_count)}:${String(row?.retired_count)}`,
  };
}
