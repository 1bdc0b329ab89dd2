import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { buildSchema, isUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { openDatabase, ormOptions } from '../src/db/orm.js';
import { postgresMigrationsList } from '../src/db/migrations/index.js';
import { printedSchema } from '../src/transports/graphql/index.js';
import { REPO_ROOT } from './support/server.js';
import { createTestDatabase } from './support/services.js';

describe('the committed artefacts', () => {
  it('schema.graphql is the schema the code builds (run npm run schema:print when this fails)', () => {
    expect(readFileSync(join(REPO_ROOT, 'schema.graphql'), 'utf8')).toBe(printedSchema());
  });

  it('a field name means one type across the members of every result union, so clients select it without aliases', () => {
    const schema = buildSchema(readFileSync(join(REPO_ROOT, 'schema.graphql'), 'utf8'));
    const clashes: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isUnionType(type)) continue;
      const typeOf = new Map<string, { member: string; type: string }>();
      for (const member of type.getTypes()) {
        for (const field of Object.values(member.getFields())) {
          const seen = typeOf.get(field.name);
          if (!seen) typeOf.set(field.name, { member: member.name, type: String(field.type) });
          else if (seen.type !== String(field.type)) {
            clashes.push(`${type.name}.${field.name}: ${seen.member} ${seen.type} vs ${member.name} ${String(field.type)}`);
          }
        }
      }
    }
    expect(clashes).toEqual([]);
  });

  it('the committed migrations build exactly the schema the entities describe', async () => {
    const orm = await openDatabase({ path: ':memory:', driver: 'better-sqlite' });
    try {
      const pending = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(pending.trim()).toBe('');
    } finally {
      await orm.close(true);
    }
  });

  it('the committed PostgreSQL migrations build exactly the schema the entities describe', async () => {
    const database = await createTestDatabase();
    const orm = await openDatabase({ driver: 'postgresql', url: database.url });
    try {
      const pending = await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false });
      expect(pending.trim()).toBe('');
      const applied = await orm.getMigrator().getExecutedMigrations();
      expect(applied.map((migration) => migration.name)).toEqual(postgresMigrationsList.map((migration) => migration.name));
    } finally {
      await orm.close(true);
      await database.drop();
    }
  });

  it('instances starting together on one PostgreSQL database migrate it once', async () => {
    const database = await createTestDatabase();
    const orms = await Promise.all([1, 2, 3].map(() => openDatabase({ driver: 'postgresql', url: database.url })));
    try {
      const applied = await orms[0]!.getMigrator().getExecutedMigrations();
      expect(applied).toHaveLength(postgresMigrationsList.length);
    } finally {
      await Promise.all(orms.map((orm) => orm.close(true)));
      await database.drop();
    }
  });

  it('the entities also map on the node-sqlite3 driver of @mikro-orm/sqlite', async () => {
    const orm = await MikroORM.init(ormOptions({ path: ':memory:', driver: 'sqlite' }));
    try {
      await orm.getMigrator().up();
      expect(await orm.em.getConnection().execute('select count(*) as n from approval')).toEqual([{ n: 0 }]);
    } finally {
      await orm.close(true);
    }
  });
});
