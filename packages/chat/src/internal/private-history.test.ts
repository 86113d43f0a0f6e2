import { describe, expect, it } from 'vitest';
import { Outgoing } from './hub.js';
import { PrivateHistory } from './private-history.js';

const pm = (nick: string, to: string, text: string, time: number) =>
  new Outgoing({ t: 'priv', to, nick, user: '~u', host: 'h', text, kind: 'say' }, time);

describe('PrivateHistory', () => {
  it('bounds messages per view and views overall, evicting the least recently active', () => {
    const h = new PrivateHistory(2, 2);
    for (let k = 0; k < 5; k++) h.record('s:a', 'bob', 'bob', pm('ann', 'bob', `m${k}`, k + 1));
    expect(h.entries('s:a', 'BOB').map((e) => e.text)).toEqual(['m3', 'm4']);
    h.record('s:a', 'cy', 'cy', pm('ann', 'cy', 'to cy', 10));
    h.record('s:b', 'ann', 'b', pm('ann', 'b', 'to b', 11));
    expect(h.views).toBe(2);
    expect(h.entries('s:a', 'bob')).toEqual([]);
    expect(h.targets('s:a', 0, 100)).toEqual([{ peer: 'cy', time: 10 }]);
    h.drop('s:a');
    expect(h.views).toBe(1);
    expect(h.targets('s:a', 0, 100)).toEqual([]);
  });

  it('keeps no notices', () => {
    const h = new PrivateHistory(5);
    h.record(
      's:a',
      'bob',
      'bob',
      new Outgoing({ t: 'priv', to: 'bob', nick: 'a', user: 'u', host: 'h', text: 'n', kind: 'notice' }),
    );
    expect(h.views).toBe(0);
  });
});
