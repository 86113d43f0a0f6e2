import { splitAt } from '@asyncnet-internal/test-support';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeTag, formatIrcMessage, formatTags, parseIrcMessage, parseTags } from './irc-message.js';
import { LineDecoder } from './line-decoder.js';

const enc = new TextEncoder();

/** Lines as the IRC front end sees them: through the line decoder, from `chunks`. */
function lines(chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  // 512 bytes plus 8191 bytes of tags (IRCv3 message-tags), as the IRC connection uses.
  const d = new LineDecoder(510 + 8192, {
    line: (l) => out.push(l),
    tooLong: () => out.push('<too long>'),
    invalidUtf8: () => out.push('<invalid>'),
  });
  for (const c of chunks) d.push(c);
  return out;
}

// Tag keys: optional client prefix `+`, optional vendor `a.b/`, then letters, digits and hyphens.
const key = fc
  .tuple(
    fc.boolean(),
    fc.option(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}(\.[a-z]{1,4})?$/), { nil: undefined }),
    fc.stringMatching(/^[A-Za-z0-9-]{1,10}$/),
  )
  .map(([client, vendor, name]) => `${client ? '+' : ''}${vendor === undefined ? '' : `${vendor}/`}${name}`);
// Values: anything but NUL, including the characters that must be escaped (; space \ CR LF).
const value = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => s.replace(/\0/g, '')),
  fc
    .array(fc.constantFrom(';', ' ', '\\', '\r', '\n', 'a', '=', ':', 's'), { maxLength: 12 })
    .map((a) => a.join('')),
);
const tagsArb = fc.dictionary(key, value, { maxKeys: 6 });
const middle = fc.stringMatching(/^[^\s:\0][^\s\0]{0,8}$/);
const trailing = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n\0]/g, ''));
const message = fc.record({
  tags: tagsArb,
  prefix: fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,8}![a-z~]{1,5}@[a-z0-9.]{1,12}$/), { nil: null }),
  command: fc.constantFrom('PRIVMSG', 'NOTICE', 'TAGMSG', 'JOIN', '001', 'BATCH'),
  params: fc.tuple(fc.array(middle, { maxLength: 3 }), trailing),
});

describe('IRC message tags (property)', () => {
  it('parses every message the same however the byte stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 24 }),
        (msgs, cuts) => {
          const wire = msgs
            .map(
              (m) =>
                formatTags(m.tags) +
                formatIrcMessage(m.prefix, m.command, [...m.params[0], m.params[1]], true),
            )
            .join('');
          const bytes = enc.encode(wire);
          const got = lines(splitAt(bytes, cuts)).map((l) => parseIrcMessage(l));
          expect(got).toEqual(lines([bytes]).map((l) => parseIrcMessage(l)));
          expect(got).toHaveLength(msgs.length);
          msgs.forEach((m, k) => {
            const p = got[k]!;
            // No tags on the wire parses as null; otherwise every key with its unescaped value.
            expect(p.tags).toEqual(Object.keys(m.tags).length === 0 ? null : m.tags);
            expect(p.prefix).toBe(m.prefix);
            expect(p.command).toBe(m.command);
            expect(p.params).toEqual([...m.params[0], m.params[1]]);
          });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('unescapes what escapeTag escapes, and never throws on arbitrary tag text', () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(parseTags(`k=${escapeTag(v)}`)).toEqual({ k: v });
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 40 }), (raw, rest) => {
        const tags = parseTags(raw);
        for (const k of Object.keys(tags)) expect(k).not.toMatch(/^(\+?|__proto__)$/);
        // Whatever the tags hold, they never change how the rest of the line parses.
        const bare = rest.replace(/^[\s@]+/, '');
        const withTags = parseIrcMessage(`@${raw.replace(/\s/g, '')} ${bare}`);
        const without = parseIrcMessage(bare);
        expect(withTags === null ? null : { ...withTags, tags: null }).toEqual(without);
      }),
      { numRuns: 400 },
    );
  });

  it('drops a lone trailing backslash and the backslash of an unknown escape (IRCv3 message-tags)', () => {
    expect(parseTags('a=b\\;c=x\\qy;d=\\s\\:\\\\\\r\\n')).toEqual({ a: 'b', c: 'xqy', d: ' ;\\\r\n' });
    expect(parseTags('a=1;a=2;;=x;+=y;flag')).toEqual({ a: '2', flag: '' });
  });
});
