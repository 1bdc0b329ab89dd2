/**
 * Optional equality conditions on an entity's columns, typed as the columns are: a listing
 * matches every condition given, and one left out or null matches anything.
 */
export type ColumnMatch<Entity, Columns extends keyof Entity> = { [Column in Columns]?: Entity[Column] | null | undefined };
