import { ANONYMOUS_OPERATION, createOperationLabels, OTHER_OPERATION } from '../../../src/observability/operation-labels.js';

describe('operation labels', () => {
  it('labels known names always, others up to the limit, then as (other)', () => {
    const labels = createOperationLabels({ known: ['Inbox'], limit: 2 });
    expect(labels.of(null)).toBe(ANONYMOUS_OPERATION);
    expect(labels.of(undefined)).toBe(ANONYMOUS_OPERATION);
    expect(labels.of('First')).toBe('First');
    expect(labels.of('Second')).toBe('Second');
    expect(labels.of('Third')).toBe(OTHER_OPERATION);
    // Admitted names keep their label; known ones never count against the limit.
    expect(labels.of('First')).toBe('First');
    expect(labels.of('Inbox')).toBe('Inbox');
  });
});
