import { describe, expect, it } from 'vitest';
import { NoProxy, readEnvProxy } from './internal/no-proxy.js';

describe('NoProxy (curl rules)', () => {
  const cases: [string, string, number, boolean][] = [
    ['', 'example.com', 80, false],
    ['*', 'anything.at.all', 443, true],
    ['example.com', 'example.com', 80, true],
    ['example.com', 'www.example.com', 80, true],
    ['example.com', 'badexample.com', 80, false],
    ['.example.com', 'example.com', 80, true],
    ['.example.com', 'a.b.example.com', 80, true],
    ['EXAMPLE.com', 'www.Example.COM.', 80, true],
    ['example.com.', 'example.com', 80, true],
    ['example.com:8080', 'example.com', 8080, true],
    ['example.com:8080', 'example.com', 80, false],
    ['foo, bar.org ,baz', 'x.bar.org', 80, true],
    ['foo bar.org', 'bar.org', 80, true],
    ['127.0.0.1', '127.0.0.1', 80, true],
    ['127.0.0.1', '127.0.0.2', 80, false],
    ['127.0.0.1', 'localhost', 80, false],
    ['10.0.0.0/8', '10.1.2.3', 80, true],
    ['10.0.0.0/8', '11.1.2.3', 80, false],
    ['::1', '::1', 80, true],
    ['[::1]', '::1', 80, true],
    ['[::1]:8443', '::1', 8443, true],
    ['[::1]:8443', '::1', 443, false],
    ['fd00::/8', 'fd12::1', 80, true],
    ['1.2.3.4', '1.2.3.4.example', 80, false],
  ];
  it.each(cases)('%j matches %s:%d -> %s', (list, host, port, expected) => {
    expect(new NoProxy(list).matches(host, port)).toBe(expected);
  });
});

describe('readEnvProxy', () => {
  it('prefers lower-case names and trims', () => {
    const env = readEnvProxy({
      HTTP_PROXY: 'http://upper:1',
      http_proxy: ' http://lower:2 ',
      HTTPS_PROXY: 'http://s:3',
      NO_PROXY: 'a.com',
    });
    expect(env.http).toBe('http://lower:2');
    expect(env.https).toBe('http://s:3');
    expect(env.noProxy.matches('x.a.com', 1)).toBe(true);
  });
});
