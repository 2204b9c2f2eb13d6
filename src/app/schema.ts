import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from '../modules/resolvers.js';

const SCHEMA_DIR = fileURLToPath(new URL('../../schema', import.meta.url));

/** schema/*.graphql, the public contract, in file-name order. */
export function readTypeDefs(directory = SCHEMA_DIR): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(path.join(directory, file), 'utf8'));
}

/** The executable schema: the SDL files with the modules' resolvers. Fails at start if a resolver names a field the SDL lacks. */
export function buildSchema(): GraphQLSchema {
  return makeExecutableSchema({
    typeDefs: readTypeDefs(),
    resolvers,
    resolverValidationOptions: { requireResolversToMatchSchema: 'error' },
  });
}
