// Internal: compares prisma/schema.prisma with a migrated database and lists
// every disagreement (a table, column, type, nullability, primary key or
// foreign key on one side only). Used by the drift test.
import { readFile } from 'node:fs/promises';
import { getDMMF, type GetDMMFError } from '@prisma/get-dmmf';
import type pg from 'pg';

type Datamodel = Exclude<ReturnType<typeof getDMMF>, GetDMMFError>['datamodel'];

export async function readPrismaDatamodel(schemaText?: string): Promise<Datamodel> {
  const datamodel = schemaText ?? (await readFile(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'));
  const document = getDMMF({ datamodel });
  if ('error' in document) throw new Error(`schema.prisma does not parse: ${document.reason}`, { cause: document.error });
  return withUnsupportedFields(document.datamodel, datamodel);
}

type Model = Datamodel['models'][number];
type Field = Model['fields'][number];

/**
 * The DMMF leaves out `Unsupported("type")` fields (the client cannot read
 * them), but they are columns all the same: each is added back to its model
 * from the schema's text, as a scalar of that type, so the comparison sees it.
 */
function withUnsupportedFields(datamodel: Datamodel, schemaText: string): Datamodel {
  const models = datamodel.models.map((model) => {
    const block = new RegExp(`^model ${model.name} \\{\\n([\\s\\S]*?)^\\}`, 'm').exec(schemaText)?.[1] ?? '';
    const unsupported = [...block.matchAll(/^\s*(\w+)\s+Unsupported\("([^"]+)"\)(\?)?(.*)$/gm)].map(([, name, type, optional, rest]): Field => ({
      ...(model.fields[0] as Field),
      name: name!,
      kind: 'scalar',
      type: type!,
      nativeType: null,
      dbName: /@map\("([^"]+)"\)/.exec(rest ?? '')?.[1] ?? null,
      isRequired: optional === undefined,
      isList: false,
      isId: false,
      isUnique: false,
      hasDefaultValue: false,
      relationName: undefined,
      relationFromFields: undefined,
      relationToFields: undefined,
    }));
    return unsupported.length === 0 ? model : { ...model, fields: [...model.fields, ...unsupported] };
  });
  return { ...datamodel, models };
}

interface DatabaseColumn {
  type: string;
  notNull: boolean;
}

interface DatabaseRelation {
  kind: 'table' | 'view';
  columns: Map<string, DatabaseColumn>;
  primaryKey: string[];
  /** "col1,col2 -> table(col1,col2) on delete X" */
  foreignKeys: Set<string>;
}

const ON_DELETE: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };

/** Reads tables and materialized views of the public schema (Prisma's own bookkeeping table excluded). */
export async function readDatabaseShape(pool: pg.Pool): Promise<Map<string, DatabaseRelation>> {
  const { rows: columns } = await pool.query<{ relation: string; relkind: string; column: string; type: string; not_null: boolean }>(`
    SELECT c.relname AS relation, c.relkind, a.attname AS column,
           format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relkind IN ('r', 'm', 'v', 'p') AND c.relname <> '_prisma_migrations'
    ORDER BY c.relname, a.attnum`);
  const { rows: constraints } = await pool.query<{
    relation: string;
    type: string;
    columns: string[];
    referenced: string | null;
    referenced_columns: string[] | null;
    on_delete: string;
  }>(`
    SELECT c.relname AS relation, k.contype AS type,
           ARRAY(SELECT attname FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, i)
                 JOIN pg_attribute ON attrelid = k.conrelid AND pg_attribute.attnum = u.attnum ORDER BY i)::text[] AS columns,
           r.relname AS referenced,
           ARRAY(SELECT attname FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, i)
                 JOIN pg_attribute ON attrelid = k.confrelid AND pg_attribute.attnum = u.attnum ORDER BY i)::text[] AS referenced_columns,
           k.confdeltype AS on_delete
    FROM pg_constraint k
    JOIN pg_class c ON c.oid = k.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
    LEFT JOIN pg_class r ON r.oid = k.confrelid
    WHERE k.contype IN ('p', 'f')`);
  const shape = new Map<string, DatabaseRelation>();
  for (const row of columns) {
    let relation = shape.get(row.relation);
    if (!relation) {
      relation = { kind: row.relkind === 'm' || row.relkind === 'v' ? 'view' : 'table', columns: new Map(), primaryKey: [], foreignKeys: new Set() };
      shape.set(row.relation, relation);
    }
    relation.columns.set(row.column, { type: row.type, notNull: row.not_null });
  }
  for (const row of constraints) {
    const relation = shape.get(row.relation);
    if (!relation) continue;
    if (row.type === 'p') relation.primaryKey = row.columns;
    else relation.foreignKeys.add(`${row.columns.join(',')} -> ${row.referenced}(${row.referenced_columns?.join(',')}) on delete ${ON_DELETE[row.on_delete]}`);
  }
  return shape;
}

/** The PostgreSQL type a Prisma scalar maps to, as format_type() prints it. */
export function postgresTypeOf(type: string, nativeType: readonly [string, readonly string[]] | null | undefined): string {
  if (nativeType) {
    const [name, args] = nativeType;
    const native: Record<string, string> = {
      Timestamptz: 'timestamp with time zone',
      Timestamp: 'timestamp without time zone',
      Date: 'date',
      Text: 'text',
      VarChar: 'character varying',
      Integer: 'integer',
      BigInt: 'bigint',
      Uuid: 'uuid',
    };
    const base = native[name] ?? name.toLowerCase();
    if (args.length === 0) return base;
    // timestamp(3) with time zone: the precision sits between the words
    return base.startsWith('timestamp') ? base.replace('timestamp', `timestamp(${args.join(',')})`) : `${base}(${args.join(',')})`;
  }
  const scalar: Record<string, string> = {
    String: 'text',
    Int: 'integer',
    BigInt: 'bigint',
    Boolean: 'boolean',
    DateTime: 'timestamp(3) without time zone',
    Float: 'double precision',
    Decimal: 'numeric(65,30)',
    Json: 'jsonb',
    Bytes: 'bytea',
  };
  return scalar[type] ?? type;
}

/** Every difference between the Prisma datamodel and the database; empty when they agree. */
export function findSchemaDrift(datamodel: Datamodel, database: Map<string, DatabaseRelation>): string[] {
  const problems: string[] = [];
  const modelTables = new Set<string>();
  for (const model of datamodel.models) {
    const table = model.dbName ?? model.name;
    modelTables.add(table);
    const relation = database.get(table);
    if (!relation) {
      problems.push(`model ${model.name}: no table or view "${table}" in the database`);
      continue;
    }
    const fieldColumns = new Set<string>();
    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      const column = field.dbName ?? field.name;
      fieldColumns.add(column);
      const actual = relation.columns.get(column);
      if (!actual) {
        problems.push(`${model.name}.${field.name}: no column "${table}.${column}" in the database`);
        continue;
      }
      const expected = postgresTypeOf(field.type, field.nativeType);
      if (actual.type !== expected) problems.push(`${model.name}.${field.name}: ${expected} in schema.prisma, ${actual.type} in the database`);
      // Views cannot declare NOT NULL; their SQL coalesces instead.
      if (relation.kind === 'table' && actual.notNull !== field.isRequired) {
        problems.push(
          `${model.name}.${field.name}: ${field.isRequired ? 'required' : 'optional'} in schema.prisma, ${actual.notNull ? 'NOT NULL' : 'nullable'} in the database`,
        );
      }
    }
    for (const column of relation.columns.keys()) {
      if (!fieldColumns.has(column)) problems.push(`${table}.${column}: column in the database but not in model ${model.name}`);
    }
    if (relation.kind === 'table') {
      const idFields = model.primaryKey?.fields ?? model.fields.filter((field) => field.isId).map((field) => field.name);
      const expectedKey = idFields.map((name) => columnOf(model, name));
      if (expectedKey.join(',') !== relation.primaryKey.join(',')) {
        problems.push(`${model.name}: primary key (${expectedKey.join(', ')}) in schema.prisma, (${relation.primaryKey.join(', ')}) in the database`);
      }
    }
    const expectedForeignKeys = new Set<string>();
    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
      const target = datamodel.models.find((candidate) => candidate.name === field.type);
      if (!target) continue;
      expectedForeignKeys.add(
        `${field.relationFromFields.map((name) => columnOf(model, name)).join(',')} -> ${target.dbName ?? target.name}(${(field.relationToFields ?? []).map((name) => columnOf(target, name)).join(',')}) on delete ${field.relationOnDelete ?? (field.isRequired ? 'NoAction' : 'SetNull')}`,
      );
    }
    for (const key of expectedForeignKeys)
      if (!relation.foreignKeys.has(key)) problems.push(`${model.name}: relation ${key} in schema.prisma has no foreign key in the database`);
    for (const key of relation.foreignKeys)
      if (!expectedForeignKeys.has(key)) problems.push(`${table}: foreign key ${key} in the database has no relation in schema.prisma`);
  }
  for (const [table] of database) {
    if (!modelTables.has(table)) problems.push(`table or view "${table}" in the database has no model in schema.prisma`);
  }
  return problems;
}

function columnOf(model: Datamodel['models'][number], fieldName: string): string {
  const field = model.fields.find((candidate) => candidate.name === fieldName);
  return field?.dbName ?? fieldName;
}
