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
import { jsonObjectSql } from './values.js';

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
   * aliased `row`; undefined when any of them cannot be compiled.
   */
  object(type: string, field: SelectedField, row: string, facts?: RowFacts): string | undefined;
  /** The fields selected under `field`, on its type: for the objects a field's SQL writes itself (connections, edges, page info). */
  fieldsOf(field: SelectedField): SelectedField[];
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
  ): CompiledRead | undefined;
}

export function createSqlReads(schema: GraphQLSchema, fields: SqlFields): SqlReads {
  // Documents that cannot compile whatever the variables, remembered (weakly: Apollo keeps the parsed documents it caches).
  const refused = new WeakSet<OperationDefinitionNode>();
  return {
    compile(document, operation, variables, viewerId) {
      if (viewerId === undefined || operation.operation !== OperationTypeNode.QUERY || refused.has(operation)) return undefined;
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
      if (coerced.errors) return undefined;
      try {
        return compileOperation(schema, fields, fragmentsOf(document), operation.selectionSet, coerced.coerced, viewerId);
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

function compileOperation(
  schema: GraphQLSchema,
  fields: SqlFields,
  fragments: Fragments,
  selectionSet: SelectionSetNode,
  variables: Record<string, unknown>,
  viewerId: number,
): CompiledRead {
  const values: unknown[] = [];
  let aliases = 0;
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
    return jsonObjectSql(
      selected(type, selectionSets).map((field) => {
        if (field.name === '__typename') return [field.key, `'"${type.name}"'`];
        const compileField = table[field.name];
        if (!compileField) throw new NotCompilable('always');
        const value = compileField(row, field, scope, facts);
        if (value === undefined) throw new NotCompilable('arguments');
        return [field.key, value];
      }),
    );
  };
  const scope: SqlScope = {
    viewerId,
    alias: (hint) => `${hint}${++aliases}`,
    param(value, type) {
      values.push(value);
      return `$${values.length}::${type}`;
    },
    object: (typeName, field, row, facts = {}) => objectOf(typeName, selectionSetsOf(field), row, facts),
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
  return { text: `SELECT ${data} AS data`, values, reservedKeys };
}
