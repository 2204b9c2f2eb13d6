import { highlightFragments, MATCH_END, MATCH_START } from '../../../../src/modules/search/highlight.js';

const mark = (text: string) => `${MATCH_START}${text}${MATCH_END}`;

describe('highlightFragments', () => {
  it('cuts the body at the marked matches, and the texts join into the body', () => {
    const body = 'Running late, run!';
    const fragments = highlightFragments(body, `${mark('Running')} late, ${mark('run')}!`);
    expect(fragments).toEqual([
      { text: 'Running', matches: true },
      { text: ' late, ', matches: false },
      { text: 'run', matches: true },
      { text: '!', matches: false },
    ]);
    expect(fragments.map((fragment) => fragment.text).join('')).toBe(body);
  });

  it('keeps markup as text, and merges adjacent matches', () => {
    const body = '<b>run</b>run';
    expect(highlightFragments(body, `<b>${mark('run')}</b>${mark('run')}`)).toEqual([
      { text: '<b>', matches: false },
      { text: 'run', matches: true },
      { text: '</b>', matches: false },
      { text: 'run', matches: true },
    ]);
    expect(highlightFragments('run run', `${mark('run')}${mark(' ')}${mark('run')}`)).toEqual([{ text: 'run run', matches: true }]);
  });

  it.each([
    ['no headline (the body holds a marker)', null],
    ['an unclosed marker', `${MATCH_START}abc`],
    ['markers out of order', `${MATCH_END}a${MATCH_START}bc${MATCH_END}`],
    ['a headline that is not the body', mark('abd')],
  ])('gives the body as one unmatched fragment for %s', (_case, headline) => {
    expect(highlightFragments('abc', headline)).toEqual([{ text: 'abc', matches: false }]);
  });

  it('gives a body without matches whole, and no fragment for an empty one', () => {
    expect(highlightFragments('nothing here', 'nothing here')).toEqual([{ text: 'nothing here', matches: false }]);
    expect(highlightFragments('', '')).toEqual([]);
  });
});
