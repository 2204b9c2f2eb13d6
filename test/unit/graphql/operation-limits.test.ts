import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { checkNesting, checkOperationLimits, maximumNesting, measureOperations, type ShapeLimits } from '../../../src/graphql/operation-limits.js';
import { QueryTooComplexError } from '../../../src/graphql/errors.js';

const shapeOf = (source: string) => [...measureOperations(parse(source)).values()][0]!;
const LIMITS: ShapeLimits = { maxDepth: 15, maxNodes: 1_000, maxAliases: 30, maxRootFields: 20 };

/** The limit a document is refused for, or null when it passes. */
function refusedFor(source: string, limits = LIMITS): string | null {
  try {
    checkNesting(source, limits.maxDepth);
    checkOperationLimits(parse(source), limits);
    return null;
  } catch (error) {
    if (!(error instanceof QueryTooComplexError)) throw error;
    return error.extensions.limit as string;
  }
}

describe('measureOperations', () => {
  it('measures depth, selections, aliases and root fields, fragments expanded where spread', () => {
    const shape = shapeOf(`query { viewer { ...U stats { totalMessages } } first: user(id: "a") { ...U } second: user(id: "b") { ...U } viewer { id } }
      fragment U on User { id name: displayName ... on User { avatar: avatarUrl } }`);
    // 3 × U (id, name, inline fragment, avatar: 4 selections, 2 aliases) + viewer, spread, stats, totalMessages, first, spread, second, spread, viewer, id.
    expect(shape).toEqual({ depth: 3, fragmentDepth: 2, nodes: 3 * 4 + 10, aliases: 3 * 2 + 2, rootFields: 3 });
  });

  it('measures the client operations within the default limits', () => {
    const fragments = readFileSync(new URL('../../../clients/operations/fragments.graphql', import.meta.url), 'utf8');
    const inbox = readFileSync(new URL('../../../clients/operations/inbox.graphql', import.meta.url), 'utf8');
    const shape = shapeOf(`${inbox}\n${fragments}`);
    expect(shape.depth).toBe(8);
    expect(shape.fragmentDepth).toBe(4);
    expect(refusedFor(`${inbox}\n${fragments}`)).toBeNull();
  });

  it('walks a fragment chain of 5,000 without recursing on its length', () => {
    const chain = Array.from({ length: 5_000 }, (_unused, index) => `fragment F${index} on Query { ${index < 4_999 ? `...F${index + 1}` : 'viewer { id }'} }`);
    const shape = shapeOf(`query { ...F0 } ${chain.join('\n')}`);
    expect(shape).toMatchObject({ depth: 2, fragmentDepth: 5_000, nodes: 5_002, rootFields: 1 });
  });

  it('counts fragments spread in fragments multiplicatively, however large that gets', () => {
    const doubling = Array.from({ length: 60 }, (_unused, index) => `fragment D${index} on Query { ...D${index + 1} ...D${index + 1} }`);
    const shape = shapeOf(`query { ...D0 } ${doubling.join('\n')} fragment D60 on Query { __typename }`);
    expect(shape.nodes).toBeGreaterThan(2 ** 60);
    expect(refusedFor(`query { ...D0 } ${doubling.join('\n')} fragment D60 on Query { __typename }`, { ...LIMITS, maxDepth: 100 })).toBe('nodes');
  });

  it('ends on fragment cycles and unknown fragments (validation reports them)', () => {
    expect(shapeOf('query { ...A } fragment A on Query { viewer { id } ...B } fragment B on Query { ...A ...Missing }')).toMatchObject({
      depth: 2,
      rootFields: 1,
    });
  });
});

describe('the limits', () => {
  it.each([
    ['depth', `{ ${'viewer { '.repeat(16)}id${' }'.repeat(16)} }`],
    [
      'fragmentDepth',
      `{ ...F0 } ${Array.from({ length: 16 }, (_unused, index) => `fragment F${index} on Query { ${index < 15 ? `...F${index + 1}` : '__typename'} }`).join(' ')}`,
    ],
    ['nodes', `{ ${'__typename '.repeat(1_001)}}`],
    ['aliases', `{ viewer { ${Array.from({ length: 31 }, (_unused, index) => `a${index}: id`).join(' ')} } }`],
    ['rootFields', `{ ${Array.from({ length: 21 }, (_unused, index) => `a${index}: __typename`).join(' ')} }`],
    ['nesting', `{ viewer { ${'... on User { '.repeat(maximumNesting(15))}id${' }'.repeat(maximumNesting(15))} } }`],
  ])('refuses one over: %s', (limit, source) => {
    expect(refusedFor(source)).toBe(limit);
  });

  it.each([
    ['depth', `{ ${'viewer { '.repeat(14)}id${' }'.repeat(14)} }`],
    ['nodes', `{ ${'__typename '.repeat(1_000)}}`],
    ['aliases', `{ viewer { ${Array.from({ length: 30 }, (_unused, index) => `a${index}: id`).join(' ')} } }`],
    ['rootFields', `{ ${Array.from({ length: 20 }, (_unused, index) => `a${index}: __typename`).join(' ')} }`],
  ])('lets the maximum through: %s', (_limit, source) => {
    expect(refusedFor(source)).toBeNull();
  });

  it('leaves a document that does not lex to the parser', () => {
    expect(() => checkNesting('{ viewer { id } } \u0007', 15)).not.toThrow();
  });
});
