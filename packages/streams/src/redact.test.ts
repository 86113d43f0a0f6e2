import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactUrl } from './redact.js';

describe('redactUrl', () => {
  it('drops exactly the userinfo of a parsable URL', () => {
    expect(redactUrl('redis://:secret@127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
    expect(redactUrl('http://bob:pw@example.com/a?b#c')).toBe('http://example.com/a?b#c');
    expect(redactUrl('https://example.com/x@y')).toBe('https://example.com/x@y');
  });

  it('cuts through the last @ of text that does not parse', () => {
    expect(redactUrl('http://bob:pw@exa mple.com/')).toBe('http://***@exa mple.com/');
    expect(redactUrl('http://bob:pw@example.com:99999/')).toBe('http://***@example.com:99999/');
    expect(redactUrl('bob:pw@host')).toBe('***@host');
    expect(redactUrl('no credentials here')).toBe('no credentials here');
  });

  it('never returns a password, whatever it and the host look like', () => {
    const secret = fc
      .string({ minLength: 6, maxLength: 20, unit: 'grapheme-ascii' })
      .filter((s) => /^[A-Za-z0-9]+$/.test(s))
      .map((s) => `S3cr${s}`);
    fc.assert(
      fc.property(
        fc.constantFrom('http', 'https', 'redis', 'rediss', 'ws'),
        fc.string({ maxLength: 8 }),
        secret,
        fc.constantFrom('example.com', 'exa mple.com', '127.0.0.1:99999', '[::1]', '', 'h%zz'),
        fc.string({ maxLength: 10 }),
        (scheme, user, password, host, path) => {
          const text = `${scheme}://${encodeURIComponent(user)}:${password}@${host}/${path}`;
          expect(redactUrl(text)).not.toContain(password);
        },
      ),
      { numRuns: 500 },
    );
  });
});
