import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSplit } from './__fixtures__/parse-helpers.js';
import { HttpError } from './errors.js';
import { ResponseParser } from './response-parser.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const whole = (s: string, method = 'GET', eof = true) => parseSplit(b(s), [], { method }, eof);

describe('ResponseParser', () => {
  it('parses a 204 in one push (tarball smoke contract)', () => {
    const events = new ResponseParser().push(b('HTTP/1.1 204 No Content\r\n\r\n'));
    expect(events[0]).toMatchObject({
      type: 'head',
      status: 204,
      statusText: 'No Content',
      httpVersion: '1.1',
    });
    expect(events[1]).toEqual({ type: 'end', keepAlive: true });
  });

  it('parses a content-length body, headers case-insensitively, set-cookie unmerged', () => {
    const p = new ResponseParser();
    const ev = p.push(
      b('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nX:  v \r\n\r\nhello'),
    );
    const head = ev[0]!;
    if (head.type !== 'head') throw new Error('no head');
    expect(head.headers.get('content-LENGTH')).toBe('5');
    expect(head.headers.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
    expect(head.headers.get('x')).toBe('v');
    expect(head.rawHeaders[1]).toEqual(['Set-Cookie', 'a=1']);
    expect(ev.slice(1).map((e) => e.type)).toEqual(['body', 'end']);
    expect(p.done).toBe(true);
  });

  it('parses chunked bodies with extensions, mixed-case hex and trailers', () => {
    const r = whole(
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        'a;name=val\r\n0123456789\r\nA\r\nabcdefghij\r\n1f ; x="y"\r\n' +
        'x'.repeat(31) +
        '\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n',
    );
    expect(r.error).toBeNull();
    expect(r.body).toBe(`0123456789abcdefghij${'x'.repeat(31)}`);
    expect(r.trailers).toEqual([
      ['Expires', 'never'],
      ['X-Sum', '1'],
    ]);
    expect(r.ends).toEqual([true]);
  });

  it('reads close-delimited bodies until EOF and never reuses the connection', () => {
    const r = whole('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    expect(r.body).toBe('until the end');
    expect(r.ends).toEqual([false]);
    const r10 = whole('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi');
    expect(r10.ends).toEqual([false]);
    const ka = whole('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi');
    expect(ka.ends).toEqual([true]);
    expect(
      whole('HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n').ends,
    ).toEqual([false]);
  });

  it('has no body for HEAD, 204 and 304 whatever the headers say', () => {
    expect(whole('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', 'HEAD').ends).toEqual([true]);
    expect(whole('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'HEAD').ends).toEqual([true]);
    expect(whole('HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n').ends).toEqual([true]);
    expect(whole('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n').ends).toEqual([true]);
  });

  it('skips unsolicited 100 and 103 responses', () => {
    const r = whole(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz',
    );
    expect(r.heads.map((h) => h.status)).toEqual([200]);
    expect(r.body).toBe('z');
  });

  it('counts bytes after a complete response as excess, never parsed and never an error, in any push', () => {
    const wire = b('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nzHTTP/1.1 200 OK\r\n\r\n');
    const one = parseSplit(wire, [], {}, false);
    expect(one).toMatchObject({ body: 'z', ends: [true], error: null, excess: wire.length - 39 });
    // Split right after the response (the case that used to throw "data after response end"), and everywhere else.
    for (let cut = 0; cut <= wire.length; cut++) expect(parseSplit(wire, [cut], {}, false)).toEqual(one);
    const p = new ResponseParser();
    p.push(wire.subarray(0, 39));
    expect(p.push(b('junk'))).toEqual([]);
    expect(p.excess).toBe(4);
    expect(p.finish()).toEqual([]);
    p.reset();
    expect(p.excess).toBe(0);
  });

  it('processes any HTTP/1.x with x > 1 as HTTP/1.1 (RFC 9112 2.3)', () => {
    for (const minor of ['2', '5', '9']) {
      const r = whole(`HTTP/1.${minor} 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n`);
      expect(r.error).toBeNull();
      expect(r.heads[0]).toMatchObject({ httpVersion: '1.1', framing: 'chunked' });
      expect(r.body).toBe('hi');
      expect(r.ends).toEqual([true]); // persistent by default, as 1.1
    }
    for (const v of ['0.9', '2.0', '3.0', '9.1']) {
      expect(whole(`HTTP/${v} 200 OK\r\nContent-Length: 0\r\n\r\n`).error?.reason).toBe(
        'unsupported http version',
      );
    }
  });

  it('trims only SP and HTAB around field values (RFC 9110 5.6.3)', () => {
    const r = whole(`${'HTTP/1.1 200 OK\r\n'}Content-Length: \t 2 \t\r\nX: \xa0v\xa0\r\n\r\nhi`);
    expect(r.error).toBeNull();
    expect(r.body).toBe('hi');
    // U+00A0 is data, not whitespace: it stays in the value.
    expect(r.heads[0]!.raw[1]).toEqual(['X', '\xa0v\xa0']);
    const te = whole('HTTP/1.1 200 OK\r\nTransfer-Encoding: \tchunked \r\n\r\n0\r\n\r\n');
    expect(te.error).toBeNull();
    const fold = parseSplit(b('HTTP/1.1 200 OK\r\nX: a\r\n \xa0b\xa0 \r\nContent-Length: 0\r\n\r\n'), [], {
      allowObsFold: true,
    });
    expect(fold.heads[0]!.raw[0]).toEqual(['X', 'a \xa0b\xa0']);
  });

  it('accepts chunk extensions that follow RFC 9112 7.1.1', () => {
    for (const ext of [
      ';a',
      ' ;a',
      '\t; a',
      ';a=b',
      ';a = b',
      ';a=b;c;d="e"',
      ';a="q \\" ; x"',
      ';a="\xe9\t"',
      ';a=""',
    ]) {
      const r = whole(
        `${'HTTP/1.1 200 OK\r\n'}Transfer-Encoding: chunked\r\n\r\n2${ext}\r\nhi\r\n0${ext}\r\n\r\n`,
      );
      expect(r.error, JSON.stringify(ext)).toBeNull();
      expect(r.body).toBe('hi');
    }
  });

  it('honours the Keep-Alive timeout hint', () => {
    const ev = new ResponseParser().push(
      b('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n'),
    );
    expect(ev[0]).toMatchObject({ keepAliveTimeout: 5000 });
  });

  it('reads the Keep-Alive timeout as /(?:^|[,; \\t])timeout[ \\t]*=[ \\t]*(\\d{1,9})/i does', () => {
    const hint = (v: string) => {
      const ev = new ResponseParser().push(
        b(`HTTP/1.1 200 OK\r\nkeep-ALIVE: ${v}\r\nContent-Length: 0\r\n\r\n`),
      );
      return (ev[0] as { keepAliveTimeout: number | null }).keepAliveTimeout;
    };
    const regex = (v: string) => {
      const m = /(?:^|[,; \t])timeout[ \t]*=[ \t]*(\d{1,9})/i.exec(v);
      return m ? Number(m[1]) * 1000 : null;
    };
    for (const v of [
      'max=5, TimeOut = 7',
      'xtimeout=3',
      'timeout=x, timeout=4',
      'timeout=1234567890',
      'timeout=',
      'timeout\t=\t2;',
    ]) {
      expect(hint(v), v).toBe(regex(v));
    }
    const part = fc.constantFrom('timeout', 'TIMEOUT', '=', ' ', '\t', ',', ';', '1', '09', 'x', 'max=5');
    fc.assert(
      fc.property(fc.array(part, { maxLength: 8 }), (parts) => {
        const v = parts.join('').trim();
        expect(hint(v)).toBe(regex(v));
      }),
    );
  });

  it('matches framing fields in any case and looks other fields up case-insensitively', () => {
    const ev = new ResponseParser().push(
      b('HTTP/1.1 200 OK\r\nCONTENT-length: 2\r\ncOnNeCtIoN: CLOSE\r\nX-Thing:  a \r\n\r\nhi'),
    );
    expect(ev[0]).toMatchObject({ framing: 'length', contentLength: 2, keepAlive: false });
    const head = ev[0] as { headers: import('./headers.js').HttpHeaders; rawHeaders: [string, string][] };
    expect(head.rawHeaders).toEqual([
      ['CONTENT-length', '2'],
      ['cOnNeCtIoN', 'CLOSE'],
      ['X-Thing', 'a'],
    ]);
    expect(head.headers.get('x-thing')).toBe('a');
    expect([...head.headers]).toEqual([
      ['content-length', '2'],
      ['connection', 'CLOSE'],
      ['x-thing', 'a'],
    ]);
  });

  it('accepts obs-fold only with allowObsFold', () => {
    const msg = 'HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nContent-Length: 0\r\n\r\n';
    expect(whole(msg).error?.reason).toBe('obs-fold');
    const r = parseSplit(b(msg), [], { allowObsFold: true });
    expect(r.heads[0]!.raw[0]).toEqual(['X', 'a b']);
  });

  it('reports a premature close with the bytes received', () => {
    const p = new ResponseParser();
    p.push(b('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    try {
      p.finish();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).code).toBe('ERR_PREMATURE_CLOSE');
      expect((err as HttpError).bytesReceived).toBe(3);
    }
    expect(whole('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab').error?.code).toBe(
      'ERR_PREMATURE_CLOSE',
    );
    expect(whole('HTTP/1.1 200 OK\r\nContent-Le').error?.code).toBe('ERR_PREMATURE_CLOSE');
    expect(whole('').error?.code).toBe('ERR_PREMATURE_CLOSE');
  });

  it('accepts a head of exactly maxHeaderSize and rejects one byte more', () => {
    const mk = (n: number) => {
      const base = 'HTTP/1.1 200 OK\r\nX: ';
      return `${base}${'a'.repeat(n - base.length)}\r\n\r\n`;
    };
    expect(parseSplit(b(mk(100)), [], { maxHeaderSize: 100 }, false).error).toBeNull();
    expect(parseSplit(b(mk(101)), [], { maxHeaderSize: 100 }, false).error?.code).toBe(
      'ERR_HEADERS_OVERFLOW',
    );
    expect(parseSplit(b(mk(101)), [1, 2, 50], { maxHeaderSize: 100 }, false).error?.code).toBe(
      'ERR_HEADERS_OVERFLOW',
    );
    // An endless head fails once it passes the limit, without waiting for EOF.
    expect(
      parseSplit(b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(200)}`), [], { maxHeaderSize: 100 }, false).error
        ?.code,
    ).toBe('ERR_HEADERS_OVERFLOW');
    // A bare LF inside the limit wins over the overflow, for every split.
    const lf = b(`HTTP/1.1 200 OK\r\nX: a\nb${'a'.repeat(300)}\r\n\r\n`);
    for (const cuts of [[], [10], [40, 41], Array.from({ length: 320 }, (_, i) => i)]) {
      expect(parseSplit(lf, cuts, { maxHeaderSize: 100 }).error?.reason).toBe('bare lf in head');
    }
    const late = b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(300)}\nb\r\n\r\n`);
    for (const cuts of [[], [10], [40, 41], Array.from({ length: 320 }, (_, i) => i)]) {
      expect(parseSplit(late, cuts, { maxHeaderSize: 100 }).error?.code).toBe('ERR_HEADERS_OVERFLOW');
    }
    const trailers = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ${'t'.repeat(200)}\r\n\r\n`;
    expect(parseSplit(b(trailers), [], { maxHeaderSize: 100 }).error?.code).toBe('ERR_HEADERS_OVERFLOW');
  });
});

// Every strictness rule, with the reason it must report (README "Strictness" table).
const H = 'HTTP/1.1 200 OK\r\n';
const CH = `${H}Transfer-Encoding: chunked\r\n\r\n`;
const rules: [string, string][] = [
  ['content-length with transfer-encoding', `${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n`],
  ['differing content-length values', `${H}Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`],
  ['differing content-length values', `${H}Content-Length: 3, 4\r\n\r\nabcd`],
  ['invalid content-length', `${H}Content-Length: abc\r\n\r\n`],
  ['invalid content-length', `${H}Content-Length: -1\r\n\r\n`],
  ['invalid content-length', `${H}Content-Length: +1\r\n\r\n`],
  ['invalid content-length', `${H}Content-Length: 0x10\r\n\r\n`],
  ['invalid content-length', `${H}Content-Length:\r\n\r\n`],
  // U+00A0 is not optional whitespace (String#trim would strip it: a smuggling differential with llhttp).
  ['invalid content-length', `${H}Content-Length: 5\xa0\r\n\r\nhello`],
  ['invalid content-length', `${H}Content-Length: \xa05\r\n\r\nhello`],
  ['invalid content-length', `${H}Content-Length: 5,\xa05\r\n\r\nhello`],
  ['invalid content-length', `${H}Content-Length: 5\x85\r\n\r\nhello`],
  ['control character in field value', `${H}Content-Length: 5\x0b\r\n\r\nhello`],
  ['control character in field value', `${H}Content-Length: 5\x0c\r\n\r\nhello`],
  ['invalid transfer-encoding', `${H}Transfer-Encoding: chunked\xa0\r\n\r\n0\r\n\r\n`],
  ['invalid transfer-encoding', `${H}Transfer-Encoding: \xa0chunked\r\n\r\n0\r\n\r\n`],
  ['invalid transfer-encoding', `${H}Transfer-Encoding: gzip,\xa0chunked\r\n\r\n0\r\n\r\n`],
  ['content-length overflow', `${H}Content-Length: 9007199254740992\r\n\r\n`],
  ['content-length overflow', `${H}Content-Length: 99999999999999999999999\r\n\r\n`],
  ['invalid chunk size', `${CH}zz\r\n`],
  ['invalid chunk size', `${CH}-1\r\n`],
  ['invalid chunk size', `${CH}\r\n`],
  ['invalid chunk size', `${CH}5 x\r\nhello\r\n0\r\n\r\n`],
  ['chunk size overflow', `${CH}fffffffffffffffffff\r\n`],
  ['chunk size overflow', `${CH}20000000000000\r\n`],
  ['chunk extension too long', `${CH}1;${'e'.repeat(5000)}\r\n`],
  ['chunk extension too long', `${CH}1;a="${'e'.repeat(5000)}\r\n`],
  ['invalid chunk extension', `${CH}2;\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;;=;"\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a="b\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a="b\\"\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a="b"c\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a=\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;=b\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a b\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a@b\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a=b;\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a=b \r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2;a=b=c\r\nab\r\n0\r\n\r\n`],
  ['invalid chunk extension', `${CH}2\r\nab\r\n0;\r\n\r\n`],
  ['bare lf in chunk size line', `${CH}1\na\r\n0\r\n\r\n`],
  ['bare cr in chunk size line', `${CH}1\r;x\r\na\r\n0\r\n\r\n`],
  ['missing crlf after chunk data', `${CH}1\r\nab\r\n0\r\n\r\n`],
  ['invalid transfer-encoding', `${H}Transfer-Encoding: chunked, chunked\r\n\r\n`],
  ['invalid transfer-encoding', `${H}Transfer-Encoding: chunked, gzip\r\n\r\n`],
  ['invalid transfer-encoding', `${H}Transfer-Encoding: gzip\r\n\r\n`],
  ['unsupported transfer-coding', `${H}Transfer-Encoding: gzip, chunked\r\n\r\n`],
  ['transfer-encoding in http/1.0', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ['whitespace before colon', `${H}Content-Length : 0\r\n\r\n`],
  ['whitespace before colon', `${H}X\t: 0\r\n\r\n`],
  ['invalid header name', `${H}X(y): 0\r\n\r\n`],
  ['invalid header name', `${H}: empty\r\n\r\n`],
  ['missing colon in header', `${H}NoColon\r\n\r\n`],
  ['nul in field value', `${H}X: a\0b\r\n\r\n`],
  ['bare cr in field value', `${H}X: a\rb\r\n\r\n`],
  ['bare lf in head', `${H}X: a\nY: b\r\n\r\n`],
  ['bare lf in trailers', `${CH}0\r\nX: a\nY: b\r\n\r\n`],
  ['control character in field value', `${H}X: a\x01b\r\n\r\n`],
  ['obs-fold', `${H}X: a\r\n b\r\n\r\n`],
  ['obs-fold', `${H} X: a\r\n\r\n`],
  ['invalid status code', 'HTTP/1.1 20 OK\r\n\r\n'],
  ['invalid status code', 'HTTP/1.1 2000 OK\r\n\r\n'],
  ['invalid status code', 'HTTP/1.1 abc OK\r\n\r\n'],
  ['invalid status code', 'HTTP/1.1 099 OK\r\n\r\n'],
  ['invalid status line', 'HTTP/1.1\r\n\r\n'],
  ['invalid status line', 'ICY 200 OK\r\n\r\n'],
  ['invalid status line', 'http/1.1 200 OK\r\n\r\n'],
  ['invalid status code', 'HTTP/1.1  200 OK\r\n\r\n'],
  ['invalid status line', '\r\nHTTP/1.1 200 OK\r\n\r\n'],
  ['unsupported http version', 'HTTP/2.0 200 OK\r\n\r\n'],
  ['unsupported http version', 'HTTP/0.9 200 OK\r\n\r\n'],
  ['bare lf in head', 'HTTP/1.1 200 OK\n\n'],
  ['bare cr in reason phrase', 'HTTP/1.1 200 O\rK\r\n\r\n'],
  ['unexpected 101 response', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'],
  ['framing field in trailers', `${CH}0\r\nContent-Length: 5\r\n\r\n`],
];

describe('ResponseParser strictness', () => {
  it.each(rules)('rejects %s', (reason, msg) => {
    const r = whole(msg);
    expect(r.error).toEqual({ code: 'ERR_HTTP_PARSE', reason });
    // Same verdict one byte at a time.
    const bytes = b(msg);
    const cuts = Array.from({ length: bytes.length }, (_, i) => i);
    expect(parseSplit(bytes, cuts).error).toEqual({ code: 'ERR_HTTP_PARSE', reason });
  });

  it('keeps throwing once failed', () => {
    const p = new ResponseParser();
    expect(() => p.push(b('HTTP/1.1 2 OK\r\n\r\n'))).toThrow(HttpError);
    expect(() => p.push(b('HTTP/1.1 200 OK\r\n\r\n'))).toThrow(/invalid status code/);
    expect(() => p.finish()).toThrow(/invalid status code/);
  });
});

// --- property tests ---
const tokenArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,11}$/).filter((n) => {
  const l = n.toLowerCase();
  return l !== 'content-length' && l !== 'transfer-encoding' && l !== 'connection';
});
const valueArb = fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/);
const bodyArb = fc.uint8Array({ maxLength: 300 });

const messageArb = fc
  .record({
    status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
    reason: fc.constantFrom('OK', '', 'Not Found', 'Some Reason'),
    fields: fc.array(fc.tuple(tokenArb, valueArb), { maxLength: 8 }),
    body: bodyArb,
    framing: fc.constantFrom('length', 'chunked', 'close'),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 1, maxLength: 10 }),
    upper: fc.boolean(),
    trailers: fc.array(fc.tuple(tokenArb, valueArb), { maxLength: 3 }),
    info: fc.boolean(),
  })
  .map((m) => {
    let head = m.info ? 'HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n' : '';
    head += `HTTP/1.1 ${m.status}${m.reason ? ` ${m.reason}` : ' '}\r\n`;
    for (const [k, v] of m.fields) head += `${k}: ${v}\r\n`;
    const parts: Buffer[] = [];
    if (m.framing === 'length') head += `Content-Length: ${m.body.length}\r\n\r\n`;
    else if (m.framing === 'chunked') head += 'Transfer-Encoding: chunked\r\n\r\n';
    else head += '\r\n';
    parts.push(b(head));
    if (m.framing === 'chunked') {
      let off = 0;
      let i = 0;
      while (off < m.body.length) {
        const n = Math.min(m.chunkSizes[i++ % m.chunkSizes.length]!, m.body.length - off);
        const hex = m.upper ? n.toString(16).toUpperCase() : n.toString(16);
        parts.push(
          b(`${hex}${i % 2 ? ';ext=1' : ''}\r\n`),
          Buffer.from(m.body.subarray(off, off + n)),
          b('\r\n'),
        );
        off += n;
      }
      let tr = '0\r\n';
      for (const [k, v] of m.trailers) tr += `${k}: ${v}\r\n`;
      parts.push(b(`${tr}\r\n`));
    } else parts.push(Buffer.from(m.body));
    return { bytes: new Uint8Array(Buffer.concat(parts)), m };
  });

const cutsArb = (n: number) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: Math.max(0, n) }), { maxLength: 40 })
    .map((a) => a.sort((x, y) => x - y));

describe('ResponseParser properties', () => {
  it('gives the same result for a valid message at any split points', () => {
    fc.assert(
      fc.property(
        messageArb.chain((x) => fc.tuple(fc.constant(x), cutsArb(x.bytes.length))),
        ([{ bytes, m }, cuts]) => {
          const one = parseSplit(bytes, []);
          expect(one.error).toBeNull();
          expect(one.heads).toHaveLength(1);
          expect(one.heads[0]!.status).toBe(m.status);
          expect(Buffer.from(one.body, 'latin1')).toEqual(Buffer.from(m.body));
          expect(parseSplit(bytes, cuts)).toEqual(one);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('gives the same result for every split, byte by byte too', () => {
    fc.assert(
      fc.property(messageArb, ({ bytes }) => {
        const one = parseSplit(bytes, []);
        const each = parseSplit(
          bytes,
          Array.from({ length: bytes.length }, (_, i) => i),
        );
        expect(each).toEqual(one);
      }),
      { numRuns: 100 },
    );
  });

  it('gives one verdict for a response followed by trailing bytes, at every split point', () => {
    const delimited = messageArb.filter(({ m }) => m.framing !== 'close');
    fc.assert(
      fc.property(delimited, fc.uint8Array({ minLength: 1, maxLength: 40 }), ({ bytes }, tail) => {
        const wire = Buffer.concat([bytes, tail]);
        const one = parseSplit(wire, [], {}, false);
        expect(one.error).toBeNull();
        expect(one.excess).toBe(tail.length);
        expect(one.ends).toEqual([parseSplit(bytes, [], {}, false).ends[0]]);
        for (let cut = 0; cut <= wire.length; cut++) expect(parseSplit(wire, [cut], {}, false)).toEqual(one);
        expect(
          parseSplit(
            wire,
            Array.from({ length: wire.length }, (_, i) => i),
            {},
            false,
          ),
        ).toEqual(one);
      }),
      { numRuns: 60 },
    );
  });

  it('accepts exactly the chunk extensions of the RFC 9112 7.1.1 grammar', () => {
    const ows = '[ \\t]*';
    const token = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
    const quoted = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"';
    const grammar = new RegExp(`^(?:${ows};${ows}${token}(?:${ows}=${ows}(?:${token}|${quoted}))?)*$`);
    const ext = fc
      .array(
        fc.constantFrom(';', '=', '"', '\\', ' ', '\t', 'a', 'Z', '1', '-', '@', ',', '\xe9', ';a', '="x"'),
        {
          maxLength: 12,
        },
      )
      .map((parts) => parts.join(''))
      .filter((e) => !/^[0-9a-fA-F]/.test(e)); // a leading hex digit belongs to the chunk size
    fc.assert(
      fc.property(ext, (e) => {
        const r = whole(`${CH}2${e}\r\nhi\r\n0\r\n\r\n`);
        if (grammar.test(e)) expect(r.error, JSON.stringify(e)).toBeNull();
        else expect(r.error?.reason, JSON.stringify(e)).toMatch(/^invalid chunk (extension|size)$/);
      }),
      { numRuns: 3000 },
    );
  });

  it('only ever throws HttpError on random or mutated bytes, and always settles', () => {
    const mutated = messageArb.chain(({ bytes }) =>
      fc
        .array(fc.tuple(fc.nat(bytes.length), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        })
        .map((muts) => {
          const c = Uint8Array.from(bytes);
          for (const [i, v] of muts) if (i < c.length) c[i] = v;
          return c;
        }),
    );
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      mutated,
      fc.uint8Array({ maxLength: 50 }).map((u) => Buffer.concat([b('HTTP/1.1 200 OK\r\n'), u])),
    );
    fc.assert(
      fc.property(
        input.chain((bytes) => fc.tuple(fc.constant(bytes), cutsArb(bytes.length))),
        ([bytes, cuts]) => {
          const one = parseSplit(bytes, []);
          const split = parseSplit(bytes, cuts);
          // With EOF every input ends in a result or an HttpError (never "waiting").
          expect(one.error !== null || one.ends.length === 1).toBe(true);
          // Events streamed before an error legitimately depend on the split; the verdict may not.
          if (one.error) expect(split.error).toEqual(one.error);
          else expect(split).toEqual(one);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
