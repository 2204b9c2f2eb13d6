import {
  GraphQLError,
  Kind,
  Lexer,
  Source,
  TokenKind,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { QueryLimits } from '../config.js';
import { QueryTooComplexError } from './errors.js';
import { collectFields, fragmentsOf, type Fragments } from './selections.js';

/**
 * The shape limits of an operation, checked before graphql-js validates it.
 *
 * Parsing, validation and execution are recursive: graphql-js's parser
 * recurses once per nested bracket (it overflows the stack near 2,000),
 * NoFragmentCycles and field collection once per fragment spread in a chain
 * (5,000 overflow), graphql-query-complexity once per field. So these checks
 * come first and never recurse on anything the client controls the depth
 * of: brackets are counted on the token stream before parsing (checkNesting,
 * called by the transport); after parsing, fragments are measured in
 * dependency order with an explicit stack, and each definition's own
 * selections recursively, which the bracket limit has made shallow
 * (operationLimitsRule, the first thing validation does).
 */

export type ShapeLimits = Pick<QueryLimits, 'maxDepth' | 'maxNodes' | 'maxAliases' | 'maxRootFields'>;

/** What the limits measure of one operation, fragments expanded wherever they are spread. */
export interface OperationShape {
  /** The deepest field; a root field is at depth 1. */
  depth: number;
  /** The deepest nesting of fragments (named or inline) in one another. */
  fragmentDepth: number;
  /** Fields, fragment spreads and inline fragments. */
  nodes: number;
  /** Aliased fields. */
  aliases: number;
  /** Distinct response keys at the root: each root field starts its own SQL. */
  rootFields: number;
}

/**
 * The deepest brackets ({ [ () a document may nest: a selection set per
 * field level, an inline fragment's per level, and a few for argument
 * values (input objects in lists).
 */
export function maximumNesting(maxDepth: number): number {
  return 2 * maxDepth + 8;
}

/** Refuses a document whose brackets nest deeper than maximumNesting, before it is parsed. */
export function checkNesting(source: string, maxDepth: number): void {
  const maximum = maximumNesting(maxDepth);
  let depth = 0;
  let deepest = 0;
  const lexer = new Lexer(new Source(source));
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (token.kind === TokenKind.BRACE_L || token.kind === TokenKind.BRACKET_L || token.kind === TokenKind.PAREN_L) {
        depth += 1;
        deepest = Math.max(deepest, depth);
      } else if (token.kind === TokenKind.BRACE_R || token.kind === TokenKind.BRACKET_R || token.kind === TokenKind.PAREN_R) {
        depth -= 1;
      }
    }
  } catch {
    // Not a valid token stream: the parser says where, with GRAPHQL_PARSE_FAILED.
  }
  if (deepest > maximum) {
    throw new QueryTooComplexError(
      `The document nests brackets ${deepest} deep, over the limit of ${maximum}: ask for less nested data.`,
      'nesting',
      deepest,
      maximum,
    );
  }
}

/**
 * A validation rule refusing a document any of whose operations exceeds a
 * limit. It measures the whole document on entering it, before any other
 * rule has recursed into it, and on a refusal ends validation there: a
 * visitor's enter returning null (not undefined) drops the node, so no rule
 * visits the document's contents. It must run in the first validation pass
 * (Apollo's validationRules, without maxRecursiveSelections, which would
 * defer them). Apollo codes validation errors GRAPHQL_VALIDATION_FAILED;
 * formatError restores QUERY_TOO_COMPLEX from the original error.
 */
export function operationLimitsRule(limits: ShapeLimits): ValidationRule {
  return (context) => ({
    Document(document) {
      try {
        checkOperationLimits(document, limits);
        return undefined;
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        context.reportError(error);
        return null;
      }
    },
  });
}

/** Refuses a document any of whose operations exceeds a limit; the first limit exceeded is named. */
export function checkOperationLimits(document: DocumentNode, limits: ShapeLimits): void {
  // Counts multiply with fragments spread in fragments: shown as at most 2^53 − 1.
  const found = (value: number) => Math.min(value, Number.MAX_SAFE_INTEGER);
  for (const shape of measureOperations(document).values()) {
    if (shape.depth > limits.maxDepth) {
      throw new QueryTooComplexError(
        `Fields are nested ${shape.depth} deep, over the limit of ${limits.maxDepth}: ask for less nested data.`,
        'depth',
        shape.depth,
        limits.maxDepth,
      );
    }
    if (shape.fragmentDepth > limits.maxDepth) {
      throw new QueryTooComplexError(
        `Fragments are nested ${shape.fragmentDepth} deep, over the limit of ${limits.maxDepth}: spread fewer fragments inside one another.`,
        'fragmentDepth',
        shape.fragmentDepth,
        limits.maxDepth,
      );
    }
    if (shape.nodes > limits.maxNodes) {
      throw new QueryTooComplexError(
        `This operation selects ${found(shape.nodes)} fields and fragments (a fragment counts wherever it is spread), over the limit of ${limits.maxNodes}: ask for less, or split the operation.`,
        'nodes',
        found(shape.nodes),
        limits.maxNodes,
      );
    }
    if (shape.aliases > limits.maxAliases) {
      throw new QueryTooComplexError(
        `This operation has ${found(shape.aliases)} aliased fields (a fragment counts wherever it is spread), over the limit of ${limits.maxAliases}: ask for each field fewer times, or split the operation.`,
        'aliases',
        found(shape.aliases),
        limits.maxAliases,
      );
    }
    if (shape.rootFields > limits.maxRootFields) {
      throw new QueryTooComplexError(
        `This operation asks for ${shape.rootFields} root fields, over the limit of ${limits.maxRootFields}: split it into several operations.`,
        'rootFields',
        shape.rootFields,
        limits.maxRootFields,
      );
    }
  }
}

/** The shape of each operation of a document. Fragments that are unknown or in a cycle count as empty: validation reports them. */
export function measureOperations(document: DocumentNode): Map<OperationDefinitionNode, OperationShape> {
  const fragments = fragmentsOf(document);
  const measured = new Map<string, Measure>();
  for (const name of dependencyOrder(fragments)) measured.set(name, measureSelections(fragments[name]!.selectionSet, measured));

  const shapes = new Map<OperationDefinitionNode, OperationShape>();
  for (const operation of document.definitions) {
    if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
    // Distinct response keys: fields with one key are merged into one by execution.
    const rootFields = collectFields([operation.selectionSet], fragments).size;
    shapes.set(operation, { ...measureSelections(operation.selectionSet, measured), rootFields });
  }
  return shapes;
}

type Measure = Omit<OperationShape, 'rootFields'>;

/** A definition's selections, with the fragments it spreads already measured. Recurses only as deep as its own brackets. */
function measureSelections(
  selectionSet: SelectionSetNode,
  measured: Map<string, Measure>,
  fieldDepth = 0,
  fragmentDepth = 0,
  into: Measure = { depth: 0, fragmentDepth: 0, nodes: 0, aliases: 0 },
): Measure {
  for (const selection of selectionSet.selections) {
    into.nodes += 1;
    switch (selection.kind) {
      case Kind.FIELD:
        into.depth = Math.max(into.depth, fieldDepth + 1);
        if (selection.alias) into.aliases += 1;
        if (selection.selectionSet) measureSelections(selection.selectionSet, measured, fieldDepth + 1, fragmentDepth, into);
        break;
      case Kind.INLINE_FRAGMENT:
        into.fragmentDepth = Math.max(into.fragmentDepth, fragmentDepth + 1);
        measureSelections(selection.selectionSet, measured, fieldDepth, fragmentDepth + 1, into);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const fragment = measured.get(selection.name.value);
        into.fragmentDepth = Math.max(into.fragmentDepth, fragmentDepth + 1 + (fragment?.fragmentDepth ?? 0));
        if (fragment) {
          into.depth = Math.max(into.depth, fieldDepth + fragment.depth);
          into.nodes += fragment.nodes;
          into.aliases += fragment.aliases;
        }
        break;
      }
    }
  }
  return into;
}

/** Fragment names, each after every fragment it spreads (a post-order walk with an explicit stack). */
function dependencyOrder(fragments: Fragments): string[] {
  const order: string[] = [];
  const entered = new Set<string>();
  for (const start of Object.keys(fragments)) {
    if (entered.has(start)) continue;
    entered.add(start);
    const stack: [string, Iterator<string>][] = [[start, spreadNames(fragments[start]!.selectionSet)[Symbol.iterator]()]];
    while (stack.length > 0) {
      const [name, spreads] = stack.at(-1)!;
      const next = spreads.next();
      if (next.done) {
        stack.pop();
        order.push(name);
      } else if (fragments[next.value] && !entered.has(next.value)) {
        // A fragment entered before is measured already, or is on the stack (a cycle).
        entered.add(next.value);
        stack.push([next.value, spreadNames(fragments[next.value]!.selectionSet)[Symbol.iterator]()]);
      }
    }
  }
  return order;
}

/** The names of the fragments a selection set spreads, at any depth of its own. */
function spreadNames(selectionSet: SelectionSetNode, into: string[] = []): string[] {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FRAGMENT_SPREAD) into.push(selection.name.value);
    else if (selection.selectionSet) spreadNames(selection.selectionSet, into);
  }
  return into;
}
