// clients/type-policies.ts against the schema: a policy names fields that
// exist, every paginated list (a field returning a *Connection) has one, and
// possibleTypes lists what the schema's interfaces hold.
import { getNamedType, isInterfaceType, isObjectType } from 'graphql';
import { possibleTypes, typePolicies } from '../../clients/type-policies.js';
import { buildSchema } from '../../src/app/schema.js';

const schema = buildSchema();

describe('the shipped Apollo Client type policies', () => {
  it('name types and fields of the schema', () => {
    for (const [typeName, policy] of Object.entries(typePolicies)) {
      const type = schema.getType(typeName);
      expect(isObjectType(type) ? typeName : `${typeName} is not an object type`).toBe(typeName);
      const fields = isObjectType(type) ? type.getFields() : {};
      for (const fieldName of Object.keys(policy.fields ?? {})) expect(Object.keys(fields)).toContain(fieldName);
    }
  });

  it('splice the pages of every connection', () => {
    const connections: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || type.name.startsWith('__')) continue;
      for (const field of Object.values(type.getFields())) {
        if (getNamedType(field.type).name.endsWith('Connection')) connections.push(`${type.name}.${field.name}`);
      }
    }
    expect(connections.length).toBeGreaterThan(0);
    const paginated = Object.entries(typePolicies).flatMap(([typeName, policy]) =>
      Object.entries(policy.fields ?? {})
        .filter(([, field]) => typeof field === 'object' && typeof field.merge === 'function' && typeof field.read === 'function')
        .map(([fieldName]) => `${typeName}.${fieldName}`),
    );
    expect(paginated.sort()).toEqual(connections.sort());
  });

  it('list the types behind every interface', () => {
    const interfaces = Object.values(schema.getTypeMap()).filter(isInterfaceType);
    expect(possibleTypes).toEqual(
      Object.fromEntries(
        interfaces.map((type) => [
          type.name,
          schema
            .getPossibleTypes(type)
            .map((member) => member.name)
            .sort(),
        ]),
      ),
    );
  });
});
