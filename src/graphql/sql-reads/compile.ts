import { createHash } from 'node:crypto';
import {
  getArgumentValues,
  getNamedType,
  getVariableValues,
  GraphQLError,
  isObjectType,
  OperationTypeNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { collectFields, fragmentsOf, type Fragments } from '../selections.js';

/**
 * Operations compiled into one SQL statement whose single value is the
 * answer's `data`, written as JSON text by PostgreSQL, the text
 * JSON.stringify would write: no resolver runs, no row becomes an object,
 * and the text goes into the answer as it is (raw-data.ts). For the reads
 * that dominate a chat client's traffic (the inbox), where the resolvers'
 * work per row cost the server more than the statements cost the database.
 *
 * Only what the domains' tables (SqlFields) know how to write is compiled:
 * a field of any other type, any other field, a directive, or arguments a
 * table refuses leave the whole operation to the resolvers, which answer it
 * (and every error it asks for) as before. What is compiled answers exactly
 * what the resolvers would: the same values, the same key order.
 */

/** One field of a selection, its merged nodes (fragments can select it twice) and its arguments coerced. */
export interface SelectedField {
  /** The key of the answer it fills: its alias, or its name. */
  key: string;
  name: string;
  /** The named type of its value. */
  type: string;
  nodes: readonly FieldNode[];
  args: Readonly<Record<string, unknown>>;
}

/** What a field's SQL knows of the row it is written over. */
export interface RowFacts {
  /** The row is the signed-in user's own (users reached by Query.viewer): private fields and lists may be read. */
  viewerRow?: boolean;
}

/** What a field's SQL writes with. */
export interface SqlScope {
  /** The signed-in user's database id; compiled operations always have one. */
  readonly viewerId: number;
  /** A table alias used nowhere else in the statement, starting with `hint`. */
  alias(hint: string): string;
  /** A bound parameter holding `value`, as `$n::<type>`. */
  param(value: unknown, type: string): string;
  /**
   * The JSON object of `field`'s selections, made on `type`, over the row
   * aliased `row`. When any of them cannot be compiled, the whole read is
   * not (it throws, and the resolvers answer).
   */
  object(type: string, field: SelectedField, row: string, facts?: RowFacts): string;
  /** The fields selected under `field`, on its type: for the objects a field's SQL writes itself (connections, edges, page info). */
  fieldsOf(field: SelectedField): SelectedField[];
  /**
   * The object of `field` on `type` over `row`, as `object` writes it; or,
   * when the read is compiled in parts (CompileOptions.parts), a mark naming
   * the object's id in its place, the object being read by the parts
   * statement from `apart.table` by that id (the first such place of a read
   * only; any other is written in place).
   */
  objectApart(type: string, field: SelectedField, row: string, apart: Apart): string;
  /**
   * The JSON `subquery` finds (one row, one column), or, when it finds
   * none, a mark that leaves the whole operation to the resolvers (whose
   * answer is an error: NOT_FOUND).
   */
  orFallback(subquery: string): string;
}

/** Where objects kept apart (SqlScope.objectApart) are read from, and what they hold. */
export interface Apart {
  /** Their table, whose rows the object's fields read, and its integer key. */
  table: string;
  idColumn: string;
  /** The id, over the row the object is written over in place. */
  id: (row: string) => string;
  /** The tags of an object (writes/tags.ts's names), besides those of the objects marked in it (SqlTags). */
  tags: (id: string) => string[];
}

/**
 * The tags of objects inside a part, as SQL text expressions over their row
 * (`'User:' || u.id`), by type: what writes touch that the part's own tags
 * do not cover (a user's profile, the statistics).
 */
export type SqlTags = Readonly<Record<string, (row: string) => string>>;

/** How a read is compiled. */
export interface CompileOptions {
  /** The objects of one place kept apart (SqlScope.objectApart), for a cache of them: see CompiledParts. Default: false. */
  parts?: boolean;
}

/** The mark of a part's id in the main statement's text, and of a tag in a part's text: characters JSON text never holds unescaped. */
export const PART_MARK = '\u0001';
export const TAG_MARK = '\u0002';
/** The mark of an answer the resolvers must give instead (SqlScope.orFallback). */
export const FALLBACK_MARK = '\u0003';
/** The same, as SQL literals. */
const PART_MARK_SQL = "E'\\x01'";
const TAG_MARK_SQL = "E'\\x02'";
const FALLBACK_MARK_SQL = "E'\\x03'";

/**
 * The objects of a read kept apart: the main statement's text holds
 * PART_MARK + id + PART_MARK where each goes, and this statement reads them
 * by id: rows of `id` (text) and `json`, whose text holds TAG_MARK + tag +
 * TAG_MARK before each object SqlTags tags (to be taken out).
 */
export interface CompiledParts {
  /** $1 is the ids (an integer array); the values follow. */
  text: string;
  values: unknown[];
  /** What an object's JSON depends on besides its id and the viewer: unique to the statement and its values. */
  key: string;
  tags: Apart['tags'];
}

/**
 * A field's value as an SQL expression of type text: its JSON, never SQL's
 * NULL (`null` then; values.ts writes them), over the row of its parent
 * aliased `row`; undefined when these arguments or this selection cannot be
 * compiled.
 */
export type SqlField = (row: string, field: SelectedField, scope: SqlScope, facts: RowFacts) => string | undefined;

/** The fields that compile, by type and field name. */
export type SqlFields = Readonly<Record<string, Readonly<Record<string, SqlField>>>>;

/** A compiled operation: the statement whose one row's `data` column is the answer's data as JSON text. */
export interface CompiledRead {
  text: string;
  values: unknown[];
  /** The answer carries keys the response cache added (`__cache…`), for it to read and remove. */
  reservedKeys: boolean;
  /** With CompileOptions.parts, when the read has a place kept apart. */
  parts?: CompiledParts;
  /** The answer may hold FALLBACK_MARK: then the resolvers answer the operation instead. */
  mayFallBack: boolean;
}

/** An object is one concat() of its keys and values, which takes at most 100 arguments. */
const MAX_KEYS = 49;
const RESERVED_PREFIX = '__cache';

/** Signals a selection that does not compile; caught once, at the top. */
class NotCompilable extends Error {}

export interface SqlReads {
  /**
   * The statement answering this query for this viewer with these
   * variables, or undefined when it is not compiled (the resolvers answer
   * it): a mutation or subscription, no viewer, a field or argument no table
   * knows, a directive, variables that do not coerce.
   */
  compile(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown> | undefined,
    viewerId: number | undefined,
    options?: CompileOptions,
  ): CompiledRead | undefined;
}

export function createSqlReads(schema: GraphQLSchema, fields: SqlFields, tags: SqlTags = {}): SqlReads {
  // Documents that cannot compile whatever the variables, remembered (weakly: Apollo keeps the parsed documents it caches).
  const refused = new WeakSet<OperationDefinitionNode>();
  return {
    compile(document, operation, variables, viewerId, options = {}) {
      if (viewerId === undefined || operation.operation !== OperationTypeNode.QUERY || refused.has(operation)) return undefined;
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
      if (coerced.errors) return undefined;
      try {
        return compileOperation(
          { schema, fields, tags, fragments: fragmentsOf(document), variables: coerced.coerced, viewerId, parts: options.parts ?? false },
          operation.selectionSet,
        );
      } catch (error) {
        // Arguments the resolvers refuse (a page too large, a forged cursor): theirs to answer, with their error.
        if (error instanceof GraphQLError) return undefined;
        if (!(error instanceof NotCompilable)) throw error;
        if (error.message === 'always') refused.add(operation);
        return undefined;
      }
    },
  };
}

interface Compilation {
  schema: GraphQLSchema;
  fields: SqlFields;
  tags: SqlTags;
  fragments: Fragments;
  variables: Record<string, unknown>;
  viewerId: number;
  parts: boolean;
}

function compileOperation({ schema, fields, tags, fragments, variables, viewerId, parts }: Compilation, selectionSet: SelectionSetNode): CompiledRead {
  // The parameters of the statement being written: the main one's, or the parts statement's while its object is.
  let values: unknown[] = [];
  let aliases = 0;
  // Inside the part being written: its objects carry their tags.
  let inPart = false;
  let apartAt: CompiledParts | undefined;
  let mayFallBack = false;
  let reservedKeys = false;
  const selected = (type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]): SelectedField[] => {
    const interfaces = new Set(type.getInterfaces().map((candidate) => candidate.name));
    const collected = collectFields(selectionSets, fragments, {
      enters: (condition) => condition === undefined || condition === type.name || interfaces.has(condition),
    });
    const result: SelectedField[] = [];
    for (const [key, nodes] of collected) {
      if (nodes.some((node) => node.directives?.length)) throw new NotCompilable('always');
      const name = nodes[0]!.name.value;
      const definition: GraphQLField<unknown, unknown> | undefined = type.getFields()[name];
      const args = definition ? getArgumentValues(definition, nodes[0]!, variables) : {};
      if (result.length === MAX_KEYS) throw new NotCompilable('always');
      if (key.startsWith(RESERVED_PREFIX)) reservedKeys = true;
      result.push({ key, name, type: definition ? getNamedType(definition.type).name : 'String', nodes, args });
    }
    return result;
  };
  const selectionSetsOf = (field: SelectedField) => field.nodes.map((node) => node.selectionSet).filter((set): set is SelectionSetNode => set !== undefined);
  const objectOf = (typeName: string, selectionSets: readonly SelectionSetNode[], row: string, facts: RowFacts): string => {
    const type = schema.getType(typeName);
    const table = fields[typeName];
    if (!isObjectType(type) || !table) throw new NotCompilable('always');
    const object = jsonObjectSql(
      selected(type, selectionSets).map((field) => {
        if (field.name === '__typename') return [field.key, `'"${type.name}"'`];
        const compileField = table[field.name];
        if (!compileField) throw new NotCompilable('always');
        const value = compileField(row, field, scope, facts);
        if (value === undefined) throw new NotCompilable('arguments');
        return [field.key, value];
      }),
    );
    const tagOf = inPart ? tags[typeName] : undefined;
    return tagOf ? `concat(${TAG_MARK_SQL}, ${tagOf(row)}, ${TAG_MARK_SQL}, ${object})` : object;
  };
  const scope: SqlScope = {
    viewerId,
    alias: (hint) => `${hint}${++aliases}`,
    param(value, type) {
      values.push(value);
      return `$${values.length}::${type}`;
    },
    object: (typeName, field, row, facts = {}) => objectOf(typeName, selectionSetsOf(field), row, facts),
    objectApart(typeName, field, row, apart) {
      if (!parts || apartAt || inPart) return scope.object(typeName, field, row);
      const outer = values;
      values = [undefined];
      inPart = true;
      try {
        const alias = scope.alias('part');
        const object = scope.object(typeName, field, alias);
        const text = `SELECT ${alias}.${apart.idColumn}::text AS id, ${object} AS json FROM ${apart.table} ${alias} WHERE ${alias}.${apart.idColumn} = ANY($1::bigint[])`;
        const partValues = values.slice(1);
        const key = createHash('sha1').update(text).update(JSON.stringify(partValues)).digest('base64url');
        apartAt = { text, values: partValues, key, tags: apart.tags };
      } finally {
        values = outer;
        inPart = false;
      }
      return `concat(${PART_MARK_SQL}, ${apart.id(row)}, ${PART_MARK_SQL})`;
    },
    orFallback(subquery) {
      mayFallBack = true;
      return `coalesce((${subquery}), ${FALLBACK_MARK_SQL})`;
    },
    fieldsOf(field) {
      const type = schema.getType(field.type);
      if (!isObjectType(type)) throw new NotCompilable('always');
      return selected(type, selectionSetsOf(field));
    },
  };
  const query = schema.getQueryType();
  if (!query) throw new NotCompilable('always');
  // The root has no row: its fields read their own.
  const data = objectOf(query.name, [selectionSet], '', {});
  return { text: `SELECT ${data} AS data`, values, reservedKeys, mayFallBack, ...(apartAt ? { parts: apartAt } : {}) };
}

/**
 * A JSON object of `[key, value]` entries, each value JSON text: one
 * concat() of the keys' literals and the values (keys are GraphQL names,
 * which need no escaping).
 */
export function jsonObjectSql(entries: readonly (readonly [key: string, value: string])[]): string {
  if (entries.length === 0) return `'{}'`;
  const parts: string[] = [];
  entries.forEach(([key, value], index) => parts.push(`'${index === 0 ? '{' : ','}"${key}":'`, value));
  parts.push(`'}'`);
  return `concat(${parts.join(', ')})`;
}
