// The part of better-sqlite3's API used directly: the growth benchmark seeds with it and chain
// verification reads with it in worker threads. The package ships no types and
// @types/better-sqlite3 is not a dependency; MikroORM's driver uses it untyped as well.
declare module 'better-sqlite3' {
  export interface Statement {
    run(...parameters: unknown[]): { changes: number; lastInsertRowid: number | bigint };
    all(...parameters: unknown[]): unknown[];
    get(...parameters: unknown[]): unknown;
    /** Rows as arrays of column values, in select order, instead of keyed objects. */
    raw(toggle?: boolean): Statement;
  }

  class Database {
    constructor(path: string, options?: { readonly?: boolean; fileMustExist?: boolean });
    prepare(sql: string): Statement;
    pragma(statement: string): unknown;
    exec(sql: string): Database;
    transaction<T extends (...parameters: never[]) => unknown>(body: T): T;
    close(): void;
  }

  export default Database;
}
