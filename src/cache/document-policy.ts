import {
  getNamedType,
  isCompositeType,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { CachePolicies, CachePolicy } from '../graphql/cache-policy.js';

/**
 * The cache policy of a whole operation, computed from the document and the
 * schema alone, before anything runs: the smallest maxAge of every field it
 * may touch (and of every type those fields return), PRIVATE if any of them
 * is. Fields under @skip/@include and under fragments on any type count, as
 * if they all ran: the policy holds whatever the variables and the data.
 * Undefined for a mutation or subscription, and maxAge 0 when something
 * touched has no policy (introspection): never cached.
 */
export function documentPolicy(
  schema: GraphQLSchema,
  policies: CachePolicies,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): CachePolicy | undefined {
  if (operation.operation !== OperationTypeNode.QUERY) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  let maxAge = Infinity;
  let scope: CachePolicy['scope'] = 'PUBLIC';
  const touch = (policy: CachePolicy | undefined) => {
    maxAge = Math.min(maxAge, policy?.maxAge ?? 0);
    if (policy?.scope === 'PRIVATE') scope = 'PRIVATE';
  };
  // A fragment's fields are the same wherever it is spread: one visit each.
  const visitedFragments = new Set<string>();

  const visit = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType) => {
    for (const selection of selectionSet.selections) {
      switch (selection.kind) {
        case Kind.FIELD: {
          const name = selection.name.value;
          if (name === '__typename') continue;
          const field = 'getFields' in parent ? parent.getFields()[name] : undefined;
          if (!field) {
            // Introspection (__schema, __type) or a field validation let through: not cacheable.
            touch(undefined);
            continue;
          }
          touch(policies.field(parent.name, name));
          const type = getNamedType(field.type);
          if (isCompositeType(type)) {
            touch(policies.type(type.name));
            if (selection.selectionSet) visit(selection.selectionSet, type);
          }
          break;
        }
        case Kind.INLINE_FRAGMENT: {
          const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
          if (type && isCompositeType(type)) visit(selection.selectionSet, type);
          break;
        }
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          if (visitedFragments.has(name)) break;
          visitedFragments.add(name);
          const fragment = fragments.get(name);
          const type = fragment && schema.getType(fragment.typeCondition.name.value);
          if (fragment && type && isCompositeType(type)) visit(fragment.selectionSet, type);
          break;
        }
      }
    }
  };

  const root = schema.getQueryType();
  if (!root) return undefined;
  // The root type's own policy is its fields' default, not something an answer includes.
  visit(operation.selectionSet, root);
  return { maxAge: Number.isFinite(maxAge) ? maxAge : 0, scope };
}
