import {
  isInterfaceType,
  isObjectType,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
} from 'graphql';

/**
 * The response cache's policies, as the schema declares them with
 * `@cacheControl(maxAge, scope)` (schema/base.graphql) on types and fields.
 * Read once from the schema's AST; the cache computes a document's scope and
 * TTL from them without running anything.
 */

export type CacheScope = 'PUBLIC' | 'PRIVATE';

export interface CachePolicy {
  /** Seconds an answer including this may be served from cache; 0: never cached. */
  maxAge: number;
  /** PRIVATE: the answer depends on who asks. */
  scope: CacheScope;
}

export interface CachePolicies {
  /** The policy of `type.field`: the field's own `@cacheControl`, completed by its type's; undefined when neither says. */
  field(typeName: string, fieldName: string): CachePolicy | undefined;
  /** The policy a type declares for itself (what a field returning it also touches); undefined when it declares none. */
  type(typeName: string): CachePolicy | undefined;
}

type PartialPolicy = Partial<CachePolicy>;

function declared(directives: readonly ConstDirectiveNode[] | undefined): PartialPolicy {
  const policy: PartialPolicy = {};
  for (const directive of directives ?? []) {
    if (directive.name.value !== 'cacheControl') continue;
    for (const argument of directive.arguments ?? []) {
      const value: unknown = valueFromASTUntyped(argument.value);
      if (argument.name.value === 'maxAge' && typeof value === 'number') policy.maxAge = value;
      if (argument.name.value === 'scope' && (value === 'PUBLIC' || value === 'PRIVATE')) policy.scope = value;
    }
  }
  return policy;
}

function complete(policy: PartialPolicy): CachePolicy | undefined {
  return policy.maxAge !== undefined && policy.scope !== undefined ? { maxAge: policy.maxAge, scope: policy.scope } : undefined;
}

function typeDirectives(type: GraphQLNamedType): ConstDirectiveNode[] {
  // `extend type Query` files may carry directives too.
  return [type.astNode, ...(type.extensionASTNodes ?? [])].flatMap((node) => [...(node?.directives ?? [])]);
}

/** Every policy the schema declares, resolved once. */
export function readCachePolicies(schema: GraphQLSchema): CachePolicies {
  const types = new Map<string, CachePolicy | undefined>();
  const fields = new Map<string, CachePolicy | undefined>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const own = declared(typeDirectives(type));
    types.set(type.name, complete(own));
    if (!isObjectType(type) && !isInterfaceType(type)) continue;
    for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
      const fieldOwn = declared(field.astNode?.directives);
      fields.set(`${type.name}.${field.name}`, complete({ maxAge: fieldOwn.maxAge ?? own.maxAge, scope: fieldOwn.scope ?? own.scope }));
    }
  }
  return {
    field: (typeName, fieldName) => fields.get(`${typeName}.${fieldName}`),
    type: (typeName) => types.get(typeName),
  };
}
