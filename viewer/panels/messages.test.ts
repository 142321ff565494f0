import { describe, expect, it } from 'vitest';
import type { MessageItem } from '../../protocol/view/types.js';
import { nextMessagesPage, sameTimeAtEnd } from './messages.js';

const m = (timeNs: number, text: string): MessageItem => ({ timeNs, thread: 1, color: -1, metadata: 0, text, callstack: 0 });

describe('messages paging', () => {
  it('drops from the next page the messages of the last shown time that were shown already, in arrival order', () => {
    const shown = [m(1, 'a'), m(5, 'b'), m(5, 'c')];
    expect(sameTimeAtEnd(shown)).toBe(2);
    // the server answers from t0 = 5: b and c again, then what follows (a third message at 5 too)
    const page = [m(5, 'b'), m(5, 'c'), m(5, 'd'), m(9, 'e')];
    expect(nextMessagesPage(shown, page).map((x) => x.text)).toEqual(['d', 'e']);
    expect(nextMessagesPage([], page)).toHaveLength(4);
    expect(sameTimeAtEnd([])).toBe(0);
  });
});
