// A search result's body as runs of text, each flagged matched or not, so
// a client shows the matches without ever reading the body as markup: a
// body of `<b>hi</b>` is four characters of text in a fragment, whatever
// the client renders it with.

/** A run of a message's body: the words the query matched, or the text between them. */
export interface HighlightFragment {
  text: string;
  matches: boolean;
}

/**
 * What ts_headline (sql.ts) puts around each matched word: STX and ETX,
 * control characters chat text does not hold. A body that does hold one is
 * not highlighted (findSearchPage answers no headline for it) rather than
 * cut in the wrong places.
 */
export const MATCH_START = '\u0002';
export const MATCH_END = '\u0003';

/**
 * The fragments of `body` from its headline: ts_headline's copy of the
 * whole body (HighlightAll) with MATCH_START and MATCH_END around each
 * match. Their texts, joined, are the body exactly; adjacent fragments
 * differ in `matches`; an empty body gives no fragment. Without a headline
 * (null), or with one that is not the body marked up, the body is one
 * fragment that matches nothing.
 */
export function highlightFragments(body: string, headline: string | null): HighlightFragment[] {
  const whole = body === '' ? [] : [{ text: body, matches: false }];
  if (headline === null) return whole;
  const fragments: HighlightFragment[] = [];
  const push = (text: string, matches: boolean) => {
    if (text === '') return;
    const last = fragments.at(-1);
    if (last && last.matches === matches) last.text += text;
    else fragments.push({ text, matches });
  };
  let rest = headline;
  for (;;) {
    const start = rest.indexOf(MATCH_START);
    if (start === -1) break;
    const end = rest.indexOf(MATCH_END, start + 1);
    if (end === -1) return whole;
    push(rest.slice(0, start), false);
    push(rest.slice(start + 1, end), true);
    rest = rest.slice(end + 1);
  }
  push(rest, false);
  // Markers out of order, or text ts_headline changed: trust the body, not the headline.
  if (fragments.some((fragment) => fragment.text.includes(MATCH_START) || fragment.text.includes(MATCH_END))) return whole;
  return fragments.map((fragment) => fragment.text).join('') === body ? fragments : whole;
}
