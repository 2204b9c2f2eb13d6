import { buildSchema, Kind, parse, type GraphQLCompositeType, type OperationDefinitionNode } from 'graphql';
import { collectFields, fragmentsOf, visitFields } from '../../../src/graphql/selections.js';

const schema = buildSchema(`
  interface Node { id: ID! }
  type User implements Node { id: ID! name: String friend: User }
  type Room implements Node { id: ID! title: String owner: User }
  type Query { node: Node user: User room: Room }
`);

/** The document, its fragments, and its first operation's selection set. */
function read(source: string) {
  const document = parse(source);
  const operation = document.definitions.find((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION)!;
  return { fragments: fragmentsOf(document), selectionSet: operation.selectionSet };
}

/** Response key → the names of the field nodes collected under it. */
const keys = (fields: Map<string, { name: { value: string } }[]>) =>
  Object.fromEntries([...fields].map(([key, nodes]) => [key, nodes.map((node) => node.name.value)]));

describe('collectFields', () => {
  it('groups fields by response key in document order, through inline fragments and spreads, each fragment once', () => {
    const { fragments, selectionSet } = read(`{ user { ...F b: name ... on User { id ...F } } } fragment F on User { id name }`);
    const user = selectionSet.selections[0]!;
    if (user.kind !== Kind.FIELD) throw new Error('expected a field');
    expect(keys(collectFields([user.selectionSet!], fragments))).toEqual({ id: ['id', 'id'], name: ['name'], b: ['name'] });
  });

  it('enters only the fragments `enters` admits, and leaves out what is under a directive when asked', () => {
    const { fragments, selectionSet } = read(`{ node { id ... on User { name } ...R title: id @include(if: false) } } fragment R on Room { title }`);
    const node = selectionSet.selections[0]!;
    if (node.kind !== Kind.FIELD) throw new Error('expected a field');
    const onUser = { enters: (condition: string | undefined) => condition === undefined || condition === 'User' };
    expect(keys(collectFields([node.selectionSet!], fragments, onUser))).toEqual({ id: ['id'], name: ['name'], title: ['id'] });
    expect(keys(collectFields([node.selectionSet!], fragments, { ...onUser, always: true }))).toEqual({ id: ['id'], name: ['name'] });
    expect(keys(collectFields([node.selectionSet!], fragments))).toEqual({ id: ['id'], name: ['name'], title: ['title', 'id'] });
  });

  it('selects nothing for unknown fragments, ends on a cycle, and follows a chain of 20,000 spreads without recursing', () => {
    expect(keys(collectFields([read(`{ ...Missing user { id } }`).selectionSet], {}))).toEqual({ user: ['user'] });
    const cycle = read(`{ ...A } fragment A on Query { user { id } ...B } fragment B on Query { room { id } ...A }`);
    expect(keys(collectFields([cycle.selectionSet], cycle.fragments))).toEqual({ user: ['user'], room: ['room'] });
    const length = 20_000;
    const chain = Array.from(
      { length },
      (_unused, index) => `fragment F${index} on Query { f${index}: user { id } ${index + 1 < length ? `...F${index + 1}` : ''} }`,
    );
    const long = read(`{ ...F0 } ${chain.join(' ')}`);
    expect(collectFields([long.selectionSet], long.fragments).size).toBe(length);
  });

  it('reads fragments named like Object.prototype members as any other', () => {
    const { fragments, selectionSet } = read(`{ ...constructor ...toString } fragment constructor on Query { user { id } }`);
    expect(keys(collectFields([selectionSet], fragments))).toEqual({ user: ['user'] });
  });
});

describe('visitFields', () => {
  it('visits every field with the type it is selected on, through fragments on any type, each fragment once', () => {
    const { fragments, selectionSet } = read(`{
      node { id ... on User { friend { ...U } } ...R }
      user { ...U friend { ...U } }
    }
    fragment U on User { name @skip(if: true) }
    fragment R on Room { owner { id } }`);
    const seen: string[] = [];
    visitFields(schema, fragments, selectionSet, schema.getQueryType()!, (field, parent: GraphQLCompositeType) =>
      seen.push(`${parent.name}.${field.name.value}`),
    );
    // U is visited once, where it is first met; its field under @skip counts.
    expect(seen.sort()).toEqual(['Node.id', 'Query.node', 'Query.user', 'Room.owner', 'User.friend', 'User.friend', 'User.id', 'User.name'].sort());
  });
});
