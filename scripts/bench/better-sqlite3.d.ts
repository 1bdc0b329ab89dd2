// The part of better-sqlite3's API the growth benchmark seeds with. The package ships no types and
// @types/better-sqlite3 is not a dependency; MikroORM's driver uses it untyped as well.
declare module 'better-sqlite3' {
  interface Statement {
    run(...parameters: unknown[]): { changes: number; lastInsertRowid: number | bigint };
    all(...parameters: unknown[]): unknown[];
    get(...parameters: unknown[]): unknown;
  }

  class Database {
    constructor(path: string, options?: { readonly?: boolean });
    prepare(sql: string): Statement;
    pragma(statement: string): unknown;
    transaction<T extends (...parameters: never[]) => unknown>(body: T): T;
    close(): void;
  }

  export default Database;
}
