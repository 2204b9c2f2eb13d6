import {
  getNamedType,
  isCompositeType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

/**
 * The one walk of a document's selections, for everything that reads a
 * document beside graphql-js's own execution: the operation limits (before
 * validation, so on documents with unknown or cyclic fragments), the
 * response cache's policy and entity tags of a document, a resolver asking
 * whether a field is selected. Nothing here recurses on what a client
 * controls the depth of: fragment spreads chain as deep as a client writes,
 * so walks keep their own stack.
 */

/** A document's fragment definitions by name, as graphql-js's resolve info has them (`info.fragments`). */
export type Fragments = Readonly<Record<string, FragmentDefinitionNode | undefined>>;

/** The fragment definitions of a document, by name (the last of a name, where validation has not refused the document yet). */
export function fragmentsOf(document: DocumentNode): Fragments {
  // No prototype: a fragment may be named `constructor`.
  const fragments: Record<string, FragmentDefinitionNode> = Object.create(null) as Record<string, FragmentDefinitionNode>;
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}

export interface CollectOptions {
  /** Whether a fragment with this type condition (undefined: an inline fragment without one) is entered. Default: every one. */
  enters?: (typeCondition: string | undefined) => boolean;
  /** Leaves out every selection under a directive (@skip, @include): what is selected whatever the variables. Default: false, they count. */
  always?: boolean;
}

/**
 * The fields selection sets select, by response key, in document order: the
 * field nodes execution merges into one field of the result (graphql-js's
 * collectFields, with no variables). Through the inline fragments and
 * fragment spreads `enters` admits, each named fragment at most once;
 * unknown fragments select nothing.
 */
export function collectFields(selectionSets: readonly SelectionSetNode[], fragments: Fragments, options: CollectOptions = {}): Map<string, FieldNode[]> {
  const { enters = () => true, always = false } = options;
  const fields = new Map<string, FieldNode[]>();
  const entered = new Set<string>();
  // The selections left to read, innermost last: document order, without recursion.
  const stack: Iterator<SelectionNode>[] = selectionSets.map((selectionSet) => selectionSet.selections[Symbol.iterator]()).reverse();
  while (stack.length > 0) {
    const next = stack.at(-1)!.next();
    if (next.done) {
      stack.pop();
      continue;
    }
    const selection = next.value;
    if (always && selection.directives?.length) continue;
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      const nodes = fields.get(key);
      if (nodes) nodes.push(selection);
      else fields.set(key, [selection]);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      if (enters(selection.typeCondition?.name.value)) stack.push(selection.selectionSet.selections[Symbol.iterator]());
    } else {
      const fragment = fragments[selection.name.value];
      if (!fragment || entered.has(fragment.name.value) || !enters(fragment.typeCondition.name.value)) continue;
      entered.add(fragment.name.value);
      stack.push(fragment.selectionSet.selections[Symbol.iterator]());
    }
  }
  return fields;
}

/** The schema's definition of a field selected on `parent`; undefined for an unknown field, and for `__typename`, `__schema` and `__type`. */
export function fieldDefinition(parent: GraphQLCompositeType, field: FieldNode): GraphQLField<unknown, unknown> | undefined {
  return 'getFields' in parent ? parent.getFields()[field.name.value] : undefined;
}

/** The composite type a field's own selections are made on; undefined for a leaf or an unknown field. */
export function selectionType(parent: GraphQLCompositeType, field: FieldNode): GraphQLCompositeType | undefined {
  const definition = fieldDefinition(parent, field);
  const type = definition && getNamedType(definition.type);
  return type && isCompositeType(type) ? type : undefined;
}

/** The composite type a fragment's selections are made on: its type condition's, or `parent` when it has none; undefined when unknown. */
export function fragmentType(schema: GraphQLSchema, typeCondition: string | undefined, parent?: GraphQLCompositeType): GraphQLCompositeType | undefined {
  const type = typeCondition === undefined ? parent : schema.getType(typeCondition);
  return type && isCompositeType(type) ? type : undefined;
}

/**
 * Calls `visit` with every field under `selectionSet` and the type it is
 * selected on: through inline fragments and fragment spreads on any type
 * (each named fragment once, on its own type condition), and into each
 * field's selections on the field's type. Under a directive or not, whether
 * or not its type condition could apply: every field the operation might
 * touch. In no particular order.
 */
export function visitFields(
  schema: GraphQLSchema,
  fragments: Fragments,
  selectionSet: SelectionSetNode,
  parent: GraphQLCompositeType,
  visit: (field: FieldNode, parent: GraphQLCompositeType) => void,
): void {
  const entered = new Set<string>();
  const pending: [SelectionSetNode, GraphQLCompositeType][] = [[selectionSet, parent]];
  for (let work = pending.pop(); work; work = pending.pop()) {
    const [selections, type] = work;
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        visit(selection, type);
        const fieldType = selection.selectionSet && selectionType(type, selection);
        if (fieldType) pending.push([selection.selectionSet, fieldType]);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const inner = fragmentType(schema, selection.typeCondition?.name.value, type);
        if (inner) pending.push([selection.selectionSet, inner]);
      } else {
        const fragment = fragments[selection.name.value];
        if (!fragment || entered.has(fragment.name.value)) continue;
        entered.add(fragment.name.value);
        const inner = fragmentType(schema, fragment.typeCondition.name.value, type);
        if (inner) pending.push([fragment.selectionSet, inner]);
      }
    }
  }
}
