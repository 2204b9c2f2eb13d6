import {
  getNamedType,
  isAbstractType,
  isCompositeType,
  isObjectType,
  Kind,
  OperationTypeNode,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { nodeTagOfIssuedId } from '../graphql/relay/global-id.js';
import { collectFields, fragmentsOf, fragmentType, selectionType, type Fragments } from '../graphql/selections.js';
import { tags, type Tag } from '../writes/tags.js';

/**
 * The tags of an answer: the entity tags of every object it contains
 * (`Conversation:12`, from the object's global id) and the list tags of the
 * lists it read (User.conversations → `Inbox:7`; ListTags, from the
 * domains). A write invalidates the same tags (writes/tags.ts), so an
 * answer is dropped by every write that could change it.
 *
 * How: before a cacheable operation runs, its document gets the fields the
 * tags need where the client did not ask for them (the id of each entity,
 * the type name at each interface), under reserved aliases; after it ran, one
 * walk of the result, guided by a plan made once per document, records the
 * tags and removes the reserved fields, so the client receives what it asked
 * for. Nothing is added to resolvers: the cost is one walk per stored answer.
 */

/** The id of an entity the client did not select. */
export const ID_ALIAS = '__cacheId';
/** The type name of an object at an interface or union position. */
export const TYPE_ALIAS = '__cacheType';
const RESERVED_PREFIX = '__cache';

/** Objects of these types carry a global id: their tag is `Type:id`. */
const ENTITY_INTERFACE = 'Node';

/**
 * The tag a write uses for a list (or another field computed from many
 * rows), from the database id of the entity the field sits on (undefined at
 * the root, or when that id cannot be read), or from the viewer's for a list
 * that is the viewer's own (a search; undefined when signed out). Undefined
 * when the id it needs is missing: the answer is then not stored.
 */
export type ListTag = (parentId: string | undefined, viewerId: number | undefined) => Tag | undefined;

/**
 * List tags by field, `Type.field`: each domain supplies those of the fields
 * it resolves (modules/resolvers.ts assembles them, createApp hands them to
 * the cache). A field of this table in an answer adds its tag, whether or
 * not the list came back empty: a later write may fill it.
 */
export type ListTags = Readonly<Record<`${string}.${string}`, ListTag>>;

/** A list tag made from the entity the field sits on: `tag` of its database id, an integer. */
export function listTagOfParent(tag: (parentId: number) => Tag): ListTag {
  return (parentId) => (parentId ? tag(Number(parentId)) : undefined);
}

/**
 * Types whose objects all change together, tagged by their type rather than
 * each by its id, however the answer reached them (`user.stats`,
 * `node(id:)`): a refresh of the view changes every user's statistics.
 */
const TYPE_TAGS: ReadonlyMap<string, Tag> = new Map([['UserStats', tags.stats()]]);

/** Objects tagged by their id: the Node types writes touch one by one. */
function isEntity(type: GraphQLCompositeType): type is GraphQLObjectType {
  return isObjectType(type) && !TYPE_TAGS.has(type.name) && type.getInterfaces().some((candidate) => candidate.name === ENTITY_INTERFACE);
}

const field = (alias: string, name: string): FieldNode => ({
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: alias },
  name: { kind: Kind.NAME, value: name },
});

/**
 * The fields `selectionSets` always select on `type`, by response key:
 * through fragments that always apply (no type condition, or `type`'s own),
 * none under a directive.
 */
const alwaysSelected = (selectionSets: readonly SelectionSetNode[], type: GraphQLObjectType, fragments: Fragments) =>
  collectFields(selectionSets, fragments, { always: true, enters: (condition) => condition === undefined || condition === type.name });

/**
 * The document to run: the original, with `__cacheId: id` on each entity
 * the client selected without a plain `id` (in that field or another one
 * merged with it), and `__cacheType: __typename`
 * (plus each entity type's `__cacheId`) at each interface or union.
 * Undefined when the client itself uses a reserved alias (then the answer is
 * not cached).
 */
export function withIdentityFields(schema: GraphQLSchema, document: DocumentNode): { document: DocumentNode; added: boolean } | undefined {
  const fragments = fragmentsOf(document);
  let reservedInUse = false;
  visit(document, {
    Field(node) {
      if (node.alias?.value.startsWith(RESERVED_PREFIX)) reservedInUse = true;
    },
  });
  if (reservedInUse) return undefined;

  let added = false;
  // The parent type of each field's selection set, found by walking from the
  // root type (and each fragment's type condition) down the field names.
  const rewrite = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType): SelectionSetNode => {
    const merged = isObjectType(parent) ? alwaysSelected([selectionSet], parent, fragments) : undefined;
    const selections = selectionSet.selections.map((selection): SelectionNode => {
      if (selection.kind === Kind.FIELD && selection.selectionSet) {
        const type = selectionType(parent, selection);
        if (!type) return selection;
        const siblings = merged?.get(selection.alias?.value ?? selection.name.value) ?? [];
        return { ...selection, selectionSet: withIdentity(rewrite(selection.selectionSet, type), type, [selection, ...siblings]) };
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = fragmentType(schema, selection.typeCondition?.name.value, parent);
        return type ? { ...selection, selectionSet: rewrite(selection.selectionSet, type) } : selection;
      }
      return selection;
    });
    return { ...selectionSet, selections };
  };
  // `merged`: the field nodes graphql-js merges with this one; any that always selects a plain id is enough.
  const withIdentity = (selectionSet: SelectionSetNode, type: GraphQLCompositeType, merged: FieldNode[]): SelectionSetNode => {
    if (isAbstractType(type)) {
      added = true;
      const entityFragments = schema
        .getPossibleTypes(type)
        .filter(isEntity)
        .map((entity): InlineFragmentNode => ({
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: entity.name } },
          selectionSet: { kind: Kind.SELECTION_SET, selections: [field(ID_ALIAS, 'id')] },
        }));
      return { ...selectionSet, selections: [...selectionSet.selections, field(TYPE_ALIAS, '__typename'), ...entityFragments] };
    }
    const selected = isEntity(type)
      ? alwaysSelected(
          merged.flatMap((node) => node.selectionSet ?? []),
          type,
          fragments,
        )
      : undefined;
    if (selected && !selected.get('id')?.some((node) => node.name.value === 'id')) {
      added = true;
      return { ...selectionSet, selections: [...selectionSet.selections, field(ID_ALIAS, 'id')] };
    }
    return selectionSet;
  };

  const definitions = document.definitions.map((definition) => {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      const root = definition.operation === OperationTypeNode.QUERY ? schema.getQueryType() : undefined;
      return root ? { ...definition, selectionSet: rewrite(definition.selectionSet, root) } : definition;
    }
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      const type = fragmentType(schema, definition.typeCondition.name.value);
      return type ? { ...definition, selectionSet: rewrite(definition.selectionSet, type) } : definition;
    }
    return definition;
  });
  return { document: added ? { ...document, definitions } : document, added };
}

interface FieldPlan {
  /** The response key (alias or name) of the field in the result. */
  key: string;
  listTag?: ListTag;
  child?: ValuePlan;
}

interface TypePlan {
  /** Response key of the entity's global id, for entity types. */
  idKey?: string;
  /** A tag every object of this type adds (TYPE_TAGS). */
  typeTag?: Tag;
  /** Fields leading to tags. */
  fields: FieldPlan[];
  /** The object carries reserved fields to remove. */
  strip: boolean;
}

/** What to do with the values at one place of the result, by their concrete type. */
export interface ValuePlan {
  /** At an interface or union: the response key of the type name. */
  typeKey?: string;
  /** At an object type: its name. */
  typeName?: string;
  types: Map<string, TypePlan>;
}

/**
 * The walk of the results of one operation, prepared once: for each place
 * in the result, where the entity's id is, which fields add list tags and
 * which lead further. Places that lead to no tag are left out. Built from
 * the document withIdentityFields returned. Throws when an entity has no
 * id to read (a bug of withIdentityFields).
 */
export function planTags(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, listTags: ListTags): ValuePlan | undefined {
  const fragments = fragmentsOf(document);
  const applies = (condition: string | undefined, type: GraphQLObjectType) => {
    if (!condition || condition === type.name) return true;
    const conditionType = schema.getType(condition);
    return conditionType !== undefined && isAbstractType(conditionType) && schema.isSubType(conditionType, type);
  };

  const plan = (type: GraphQLCompositeType, selectionSets: SelectionSetNode[]): ValuePlan | undefined => {
    const types = new Map<string, TypePlan>();
    const concrete = isAbstractType(type) ? schema.getPossibleTypes(type) : [type as GraphQLObjectType];
    for (const object of concrete) {
      const groups = collectFields(selectionSets, fragments, { enters: (condition) => applies(condition, object) });
      const fields: FieldPlan[] = [];
      for (const [key, nodes] of groups) {
        const name = nodes[0]!.name.value;
        const definition = object.getFields()[name];
        if (!definition) continue;
        const coordinate = `${object.name}.${name}` as const;
        const listTag = Object.hasOwn(listTags, coordinate) ? listTags[coordinate] : undefined;
        const named = getNamedType(definition.type);
        const child = isCompositeType(named)
          ? plan(
              named,
              nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : [])),
            )
          : undefined;
        if (listTag || child) fields.push({ key, listTag, child });
      }
      let idKey: string | undefined;
      if (isEntity(object)) {
        if (groups.has(ID_ALIAS)) idKey = ID_ALIAS;
        else if (groups.get('id')?.some((node) => node.name.value === 'id')) idKey = 'id';
        else throw new Error(`entity tags: ${object.name} has no id to read in this document`);
      }
      const strip = groups.has(ID_ALIAS) || groups.has(TYPE_ALIAS);
      const typeTag = TYPE_TAGS.get(object.name);
      if (idKey || typeTag || fields.length > 0 || strip) types.set(object.name, { idKey, typeTag, fields, strip });
    }
    if (types.size === 0) return undefined;
    return isAbstractType(type) ? { typeKey: TYPE_ALIAS, types } : { typeName: type.name, types };
  };

  const root = schema.getQueryType();
  return root && operation.operation === OperationTypeNode.QUERY ? plan(root, [operation.selectionSet]) : undefined;
}

/**
 * Walks a result: the tags of what it contains, and the reserved fields
 * removed from it (always, so the client never sees them). Undefined when
 * an entity lacks a readable id, or a list of the viewer's own was read
 * without a viewer: such an answer is not stored.
 * @param viewerId the signed-in user the answer was computed for (its PRIVATE scope)
 */
export function collectTags(data: unknown, plan: ValuePlan | undefined, viewerId?: number): Set<Tag> | undefined {
  const found = new Set<Tag>();
  if (!plan) return found;
  let complete = true;
  const walk = (value: unknown, at: ValuePlan) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const item of value) walk(item, at);
      return;
    }
    const object = value as Record<string, unknown>;
    const typeName = at.typeName ?? (object[at.typeKey!] as string);
    const typePlan = at.types.get(typeName);
    if (!typePlan) return;
    if (typePlan.typeTag) found.add(typePlan.typeTag);
    let parentId: string | undefined;
    if (typePlan.idKey) {
      const id = object[typePlan.idKey];
      const tag = typeof id === 'string' ? nodeTagOfIssuedId(id) : '';
      if (tag.startsWith(`${typeName}:`)) {
        found.add(tag as Tag);
        parentId = tag.slice(typeName.length + 1);
      } else {
        complete = false;
      }
    }
    for (const field of typePlan.fields) {
      const fieldValue = object[field.key];
      // Left out by @skip or @include.
      if (fieldValue === undefined) continue;
      if (field.listTag) {
        const tag = field.listTag(parentId, viewerId);
        if (tag) found.add(tag);
        else complete = false;
      }
      if (field.child) walk(fieldValue, field.child);
    }
    if (typePlan.strip) {
      delete object[ID_ALIAS];
      delete object[TYPE_ALIAS];
    }
  };
  walk(data, plan);
  return complete ? found : undefined;
}
