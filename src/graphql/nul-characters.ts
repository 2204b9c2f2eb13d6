import { visit, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { BadUserInputError } from './errors.js';

/**
 * PostgreSQL text cannot hold U+0000: a statement given one fails (22021),
 * which a client would see as INTERNAL_SERVER_ERROR. So every string a
 * client sends, in the document or in the operation's variables, is checked
 * here once, before anything runs, instead of in each resolver that may pass
 * a string to SQL.
 */

const NUL = '\u0000';

/** Documents checked already: Apollo's parsed-document cache hands the same object back for the same query. */
const cleanDocuments = new WeakSet<DocumentNode>();

/**
 * Refuses, with BAD_USER_INPUT and HTTP 400, a NUL in any string literal of
 * the document or any string of the operation's variables (naming the
 * variable's path, "$input.body", as `field`).
 */
export function refuseNulCharacters(document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown> | undefined): void {
  if (!cleanDocuments.has(document)) {
    // graphql-js's visit keeps its own stack: no recursion on the document's depth.
    visit(document, {
      StringValue(node) {
        if (node.value.includes(NUL)) throw refusal('a string in the document', undefined);
      },
    });
    cleanDocuments.add(document);
  }
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const path = nulPath(variables?.[name], `$${name}`);
    if (path !== null) throw refusal(path, path);
  }
}

function refusal(where: string, field: string | undefined): BadUserInputError {
  return new BadUserInputError(`${where}: the NUL character (U+0000) is not accepted in strings`, field, { httpStatus: 400 });
}

/**
 * The path ("$input.body", "$ids.1") of a string holding a
 * NUL in a variable's value, or null. Iterative: JSON can nest deeper than
 * the stack.
 */
function nulPath(value: unknown, root: string): string | null {
  const pending: [unknown, string][] = [[value, root]];
  while (pending.length > 0) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (current.includes(NUL)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) => pending.push([item, `${path}.${index}`]));
    } else if (current !== null && typeof current === 'object') {
      for (const [key, item] of Object.entries(current)) pending.push([item, `${path}.${key}`]);
    }
  }
  return null;
}
