import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { list, parseArgs, parseHostPort, str } from './args.js';
import { makeSelfSignedCert, serialNumber } from './cert.js';
import { formatEvent } from './cmd/chat.js';
import { findCommand } from './commands.js';
import { describeError, exitCodeOf, runtimeError, usageError } from './errors.js';
import { createStyle } from './style.js';

const get = findCommand('get')!;

describe('parseArgs', () => {
  it('reads long, short, inline and repeated options around positionals', () => {
    const a = parseArgs(get, ['-H', 'A: 1', 'http://x/', '--header=B: 2', '-Hc: 3', '-I', '--timeout', '50']);
    expect(a.positionals).toEqual(['http://x/']);
    expect(list(a, 'header')).toEqual(['A: 1', 'B: 2', 'c: 3']);
    expect(a.options.get('head')).toBe(true);
    expect(str(a, 'timeout')).toBe('50');
  });

  it('treats everything after -- as positionals', () => {
    expect(parseArgs(findCommand('echo-client')!, ['--', '--not-an-option']).positionals).toEqual([
      '--not-an-option',
    ]);
  });

  it('rejects a value on a flag and a flag where a value belongs, as usage errors', () => {
    const e1 = (() => {
      try {
        parseArgs(get, ['--head=yes', 'http://x/']);
      } catch (e) {
        return e;
      }
    })();
    expect(exitCodeOf(e1)).toBe(2);
    expect(() => parseArgs(get, ['-o', '--head', 'http://x/'])).toThrow(/--output needs a value/);
  });

  it('lets --help through without the required arguments', () => {
    expect(parseArgs(get, ['--help']).help).toBe(true);
  });
});

describe('parseHostPort', () => {
  it('parses host:port and [v6]:port', () => {
    expect(parseHostPort('127.0.0.1:7000')).toEqual({ host: '127.0.0.1', port: 7000 });
    expect(parseHostPort('[::1]:6667')).toEqual({ host: '::1', port: 6667 });
  });
  it.each(['7000', ':7000', 'h:', 'h:0', 'h:65536', 'h:x'])('rejects %j', (v) => {
    expect(() => parseHostPort(v)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});

describe('errors', () => {
  it('maps socket codes to one actionable line and usage/runtime errors to exit codes', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(describeError(refused, 'h:1')).toBe(
      'connection refused by h:1: is the server running on that port?',
    );
    expect(exitCodeOf(usageError('x'))).toBe(2);
    expect(exitCodeOf(runtimeError('x'))).toBe(1);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });

  it('keeps a multi-line error (OpenSSL) on one line and names the TLS mismatch', () => {
    const ssl = Object.assign(
      new Error(
        '80BC02E2867F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n',
      ),
      { code: 'ERR_SSL_WRONG_VERSION_NUMBER' },
    );
    expect(describeError(ssl, 'h:1')).toBe(
      'TLS handshake with h:1 failed: the server does not speak TLS on that port (plain http://?) (ERR_SSL_WRONG_VERSION_NUMBER)',
    );
    const other = Object.assign(new Error('A:error:B:SSL routines:fn:some reason:file.c:1:\n'), {
      code: 'ERR_SSL_SOMETHING',
    });
    expect(describeError(other, 'h:1')).toBe(
      'TLS handshake with h:1 failed: some reason (ERR_SSL_SOMETHING)',
    );
    expect(describeError(new Error('first\nsecond\r\n'))).toBe('first second');
  });
});

describe('makeSelfSignedCert', () => {
  it('makes a valid self-signed certificate for localhost and 127.0.0.1', () => {
    const { cert } = makeSelfSignedCert();
    const x = new X509Certificate(cert);
    expect(x.subject).toBe('CN=localhost');
    expect(x.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('always encodes a valid serial number (a random one once failed 1 time in ~256)', () => {
    // Every first byte the random source can give: a positive, minimal DER INTEGER.
    for (let b = 0; b < 256; b++) {
      const serial = serialNumber(Buffer.from([b, 0, 0, 0, 0, 0, 0, 0]));
      expect(serial[0]).toBeGreaterThanOrEqual(0x01);
      expect(serial[0]).toBeLessThanOrEqual(0x7f);
      expect(serial.subarray(1)).toEqual(Buffer.alloc(7));
    }
    // And OpenSSL takes the certificates made from the edge cases (it rejects a non-minimal or
    // negative INTEGER when parsing and when building a TLS context).
    for (const b of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
      const { cert, key } = makeSelfSignedCert('localhost', Buffer.from([b, 0, 0, 0, 0, 0, 0, 0]));
      expect(() => createSecureContext({ cert, key })).not.toThrow();
      expect(new X509Certificate(cert).serialNumber).toMatch(/^[0-7][0-9A-F]/);
    }
  });
});

describe('formatEvent', () => {
  it('colours nicks stably only when colour is on', () => {
    const plain = createStyle(false);
    const colour = createStyle(true);
    const ev = { type: 'message', room: '#lobby', from: 'alice', text: 'hi' } as const;
    expect(formatEvent(ev, plain)).toBe('<alice> hi');
    const coloured = formatEvent(ev, colour);
    expect(coloured).not.toBe('<alice> hi');
    expect(coloured.startsWith('<\u001b[')).toBe(true);
    expect(coloured.endsWith('alice\u001b[0m> hi')).toBe(true);
    expect(formatEvent(ev, colour)).toBe(coloured);
    expect(formatEvent({ type: 'private', from: 'bob', text: 'psst' }, plain)).toBe('*bob* psst');
    expect(formatEvent({ type: 'error', text: 'nope' }, plain)).toBe('! nope');
    const act = { type: 'action', room: '#lobby', from: 'bob', text: 'waves', private: false } as const;
    expect(formatEvent(act, plain)).toBe('* bob waves');
    // With colour an action is not dimmed like a server notice, and the nick is coloured.
    expect(formatEvent(act, colour)).not.toBe(formatEvent({ type: 'notice', text: 'bob waves' }, colour));
    expect(formatEvent({ ...act, private: true }, plain)).toBe('*bob* * bob waves');
  });

  it('neutralises terminal escape sequences and bidi overrides from the network', () => {
    const plain = createStyle(false);
    const ev = {
      type: 'message',
      room: '#lobby',
      from: 'e\u001bvil',
      text: '\u001b[2J\u001b]0;title\u0007 \u009b2J \u202egnp.exe\tok\u007f',
    } as const;
    expect(formatEvent(ev, plain)).toBe('<e^[vil> ^[[2J^[]0;title^G \ufffd2J \ufffdgnp.exe\tok^?');
    expect(formatEvent({ type: 'notice', text: 'a\rb' }, plain)).toBe('* a^Mb');
  });
});
