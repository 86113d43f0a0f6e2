import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { foldCase, nickProblem, roomProblem } from './casemap.js';
import { formatIrcMessage, parseIrcMessage } from './irc-message.js';

describe('parseIrcMessage', () => {
  it('parses prefix, command, middle params and trailing', () => {
    expect(parseIrcMessage(':nick!u@h PRIVMSG #room :hello there :)')).toEqual({
      tags: null,
      prefix: 'nick!u@h',
      command: 'PRIVMSG',
      params: ['#room', 'hello there :)'],
    });
    expect(parseIrcMessage('@time=x  user a  0 * :Real Name')).toEqual({
      tags: { time: 'x' },
      prefix: null,
      command: 'USER',
      params: ['a', '0', '*', 'Real Name'],
    });
    expect(parseIrcMessage('PING')).toEqual({ tags: null, prefix: null, command: 'PING', params: [] });
    expect(parseIrcMessage('')).toBeNull();
    expect(parseIrcMessage(':onlyprefix')).toBeNull();
  });

  it('round-trips formatIrcMessage (property)', () => {
    const middle = fc
      .string({ minLength: 1, maxLength: 10 })
      .filter((s) => !/[\s:\0]/.test(s[0]!) && !/[\s\0]/.test(s));
    const trailing = fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n\0]/g, ''));
    const cmd = fc.constantFrom('PRIVMSG', 'JOIN', 'NOTICE', '001', 'PART');
    fc.assert(
      fc.property(
        cmd,
        fc.array(middle, { maxLength: 5 }),
        fc.option(trailing, { nil: undefined }),
        (command, mids, trail) => {
          const params = trail === undefined ? mids : [...mids, trail];
          const line = formatIrcMessage('srv', command, params);
          expect(line.endsWith('\r\n')).toBe(true);
          const parsed = parseIrcMessage(line.slice(0, -2));
          expect(parsed).toEqual({ tags: null, prefix: 'srv', command, params });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('casemapping and names', () => {
  it('folds with rfc1459 rules and leaves non-ASCII alone', () => {
    expect(foldCase('Alice[]\\^')).toBe('alice{}|~');
    expect(foldCase('bob')).toBe('bob');
    expect(foldCase('ÉCOLE')).toBe('École');
  });

  it('folding is idempotent and ignores ASCII case (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary-ascii', maxLength: 20 }), (s) => {
        expect(foldCase(foldCase(s))).toBe(foldCase(s));
        expect(foldCase(s.toUpperCase())).toBe(foldCase(s.toLowerCase()));
      }),
    );
  });

  it('checks nick and room rules', () => {
    expect(nickProblem('alice', 9)).toBeNull();
    expect(nickProblem('[x]_^{|}-', 9)).toBeNull();
    expect(nickProblem('1abc', 9)).toMatch(/characters/);
    expect(nickProblem('has space', 20)).toMatch(/characters/);
    expect(nickProblem('toolongnick', 9)).toMatch(/longer than 9/);
    expect(nickProblem('', 9)).toMatch(/empty/);
    // `* you joined #x` from `/me joined #x` would pass for a server notice.
    expect(nickProblem('You', 9)).toBe('nick "You" is reserved');
    expect(nickProblem('yours', 9)).toBeNull();
    expect(roomProblem('#ok', 10)).toBeNull();
    expect(roomProblem('nohash', 10)).toMatch(/must start with #/);
    expect(roomProblem('#a,b', 10)).toMatch(/must start/);
  });
});
