import { buildSchema, parse } from 'graphql';
import { createCostEstimator } from '../../../src/http/plugins/query-cost.js';

const schema = buildSchema(`
  type Item { name: String! children(first: Int): [Item!]! }
  type Query { items(first: Int): [Item!]! other: Item }
`);
const document = parse(`
  query Items($first: Int, $children: Int) { items(first: $first) { name children(first: $children) { name } } }
  query Other { other { name } }
`);

describe('createCostEstimator', () => {
  it('estimates each operation and set of variables of one document on its own, the same when asked again', () => {
    const estimate = createCostEstimator();
    const small = estimate(schema, document, { first: 2, children: 3 }, 'Items');
    const large = estimate(schema, document, { first: 20, children: 30 }, 'Items');
    const other = estimate(schema, document, {}, 'Other');
    // items: 1 + 2 × (name 1 + children (1 + 3 × name 1)) = 1 + 2 × 5 = 11
    expect(small).toBe(11);
    expect(large).toBe(1 + 20 * (1 + 1 + 30));
    expect(other).toBe(2);
    for (let round = 0; round < 3; round += 1) {
      expect(estimate(schema, document, { first: 2, children: 3 }, 'Items')).toBe(small);
      expect(estimate(schema, document, { first: 20, children: 30 }, 'Items')).toBe(large);
      expect(estimate(schema, document, {}, 'Other')).toBe(other);
    }
  });

  it('stays right past the estimates it keeps, and for variables too long to keep', () => {
    const estimate = createCostEstimator();
    for (let first = 1; first <= 100; first += 1) expect(estimate(schema, document, { first, children: 1 }, 'Items')).toBe(1 + first * 3);
    const long = { first: 4, children: 1, padding: 'x'.repeat(5000) };
    expect(estimate(schema, document, long, 'Items')).toBe(13);
    expect(estimate(schema, document, { ...long, first: 5 }, 'Items')).toBe(16);
  });
});
