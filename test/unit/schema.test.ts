// The contract in schema/*.graphql: it builds with the resolvers, and every
// type, field, argument and enum value has a description, since that is what
// developers read in Apollo Sandbox.
import {
  buildASTSchema,
  concatAST,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isIntrospectionType,
  isSpecifiedScalarType,
  parse,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
} from 'graphql';
import { readFileSync } from 'node:fs';
import { ErrorCode } from '../../src/graphql/errors.js';
import { buildSchema, readTypeDefs } from '../../src/app/schema.js';

const schema: GraphQLSchema = buildSchema();

/** Every description of a schema, by "Type", "Type.field", "Type.field(argument)" or "Enum.VALUE". */
function descriptions(target: GraphQLSchema): Map<string, string | null | undefined> {
  const found = new Map<string, string | null | undefined>();
  for (const type of Object.values(target.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    found.set(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values<GraphQLField<unknown, unknown> | GraphQLInputField>(type.getFields())) {
        found.set(`${type.name}.${field.name}`, field.description);
        if ('args' in field) for (const argument of field.args) found.set(`${type.name}.${field.name}(${argument.name})`, argument.description);
      }
    }
    if (isEnumType(type)) for (const value of type.getValues()) found.set(`${type.name}.${value.name}`, value.description);
  }
  return found;
}

/** Every named thing of the schema that lacks a description, as "Type.field(argument)". */
function undescribed(target: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(target.getTypeMap())) {
    if (isIntrospectionType(type) || isSpecifiedScalarType(type)) continue;
    if (!type.description) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values<GraphQLField<unknown, unknown> | GraphQLInputField>(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        if ('args' in field) {
          for (const argument of field.args) {
            if (!argument.description) missing.push(`${type.name}.${field.name}(${argument.name})`);
          }
        }
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing;
}

describe('the GraphQL schema', () => {
  it('describes every type, field, argument and enum value', () => {
    expect(undescribed(schema)).toEqual([]);
  });

  it('shows the descriptions of schema/*.graphql, not those of the libraries behind its resolvers', () => {
    const fromFiles = buildASTSchema(concatAST(readTypeDefs().map((source) => parse(source))));
    expect(Object.fromEntries(descriptions(schema))).toEqual(Object.fromEntries(descriptions(fromFiles)));
    expect(schema.getType('DateTime')!.description).toMatch(/^An instant in time, as an ISO-8601 string/);
  });

  it('names what docs/design.md names', () => {
    const query = schema.getQueryType()!.getFields();
    expect(Object.keys(query).sort()).toEqual(['conversation', 'leaderboard', 'node', 'rateLimit', 'searchMessages', 'user', 'userByUsername', 'viewer']);
    const mutation = schema.getMutationType()!.getFields();
    expect(Object.keys(mutation).sort()).toEqual([
      'createConversation',
      'editMessage',
      'leaveConversation',
      'markConversationRead',
      'renameConversation',
      'sendMessage',
      'setTyping',
      'updateProfile',
    ]);
    for (const field of Object.values(mutation)) {
      expect(field.args.map((argument) => argument.name)).toEqual(['input']);
      expect(String(field.type)).toMatch(/Payload!$/);
    }
    const subscription = schema.getSubscriptionType()!.getFields();
    expect(Object.keys(subscription).sort()).toEqual(['conversationUpdated', 'messageAdded', 'messageEdited', 'typing']);
    expect(subscription.messageAdded!.args.map((argument) => argument.name)).toEqual(['conversationId', 'after']);
    // The codes Parley answers with, as docs/design.md lists them.
    const design = readFileSync(new URL('../../docs/design.md', import.meta.url), 'utf8');
    const listed = design.match(/Error codes in `extensions\.code`: ([^(]*)\(/)?.[1];
    expect(listed?.match(/[A-Z_]+/g)?.sort()).toEqual(Object.values(ErrorCode).sort());
    const node = schema.getType('Node');
    expect(
      isInterfaceType(node) &&
        schema
          .getPossibleTypes(node)
          .map((type) => type.name)
          .sort(),
    ).toEqual(['Conversation', 'Message', 'User', 'UserStats']);
  });
});
