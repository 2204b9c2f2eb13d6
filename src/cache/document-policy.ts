import { getNamedType, isCompositeType, OperationTypeNode, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { CachePolicies, CachePolicy } from '../graphql/cache-policy.js';
import { fieldDefinition, fragmentsOf, visitFields } from '../graphql/selections.js';

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
  const root = schema.getQueryType();
  if (!root) return undefined;
  let maxAge = Infinity;
  let scope: CachePolicy['scope'] = 'PUBLIC';
  const touch = (policy: CachePolicy | undefined) => {
    maxAge = Math.min(maxAge, policy?.maxAge ?? 0);
    if (policy?.scope === 'PRIVATE') scope = 'PRIVATE';
  };
  // The root type's own policy is its fields' default, not something an answer includes.
  visitFields(schema, fragmentsOf(document), operation.selectionSet, root, (field, parent) => {
    const name = field.name.value;
    if (name === '__typename') return;
    const definition = fieldDefinition(parent, field);
    // Introspection (__schema, __type) or a field validation let through: not cacheable.
    if (!definition) return touch(undefined);
    touch(policies.field(parent.name, name));
    const type = getNamedType(definition.type);
    if (isCompositeType(type)) touch(policies.type(type.name));
  });
  return { maxAge: Number.isFinite(maxAge) ? maxAge : 0, scope };
}
