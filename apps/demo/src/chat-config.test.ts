import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createChatServer } from '@asyncnet/chat';
import { describe, expect, it } from 'vitest';
import { loadChatConfig, parseChatConfig } from './chat-config.js';

const EXAMPLE = fileURLToPath(new URL('./__fixtures__/chat-server.example.json', import.meta.url));
const README = fileURLToPath(new URL('../README.md', import.meta.url));

function problem(json: unknown): string {
  try {
    parseChatConfig(json, '/etc/chat/server.json');
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_USAGE');
    return (err as Error).message;
  }
  throw new Error('no error');
}

describe('parseChatConfig', () => {
  it('accepts the README example, which createChatServer accepts too', async () => {
    const c = loadChatConfig(EXAMPLE);
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 7000, ircPort: 6667, tlsPort: 6697 });
    expect(c.redis).toEqual({ url: 'redis://127.0.0.1:6379/0', prefix: 'example:chat' });
    expect(c.options.motd).toEqual(['Welcome to ExampleNet.', 'Be kind. Logs are kept for 7 days.']);
    const server = createChatServer({ ...c.options, log: () => {} });
    await server.close();
    // The README shows the file itself, so the two cannot drift apart.
    expect(readFileSync(README, 'utf8')).toContain(readFileSync(EXAMPLE, 'utf8'));
  });

  it('names an unknown key by its path, with the known keys', () => {
    expect(problem({ motdd: [] })).toMatch(
      /^chat-server: config \/etc\/chat\/server\.json: unknown key "motdd" \(known: listen, redis, serverName, .*, motd, /,
    );
    expect(problem({ listen: { ports: 1 } })).toBe(
      'chat-server: config /etc/chat/server.json: unknown key "listen.ports" (known: host, port, ircPort, tlsPort)',
    );
    expect(problem({ tls: { certFile: 'a', keyFile: 'b', sts: { duration: 1, prelaod: true } } })).toMatch(
      /unknown key "tls\.sts\.prelaod" \(known: duration, preload\)$/,
    );
    expect(problem({ operators: [{ name: 'a', password: 'b', pass: 'c' }] })).toMatch(
      /unknown key "operators\[0\]\.pass" \(known: name, password\)$/,
    );
    // Code-only options have no key.
    expect(problem({ log: 'stderr' })).toMatch(/unknown key "log"/);
    expect(problem({ accounts: { store: {} } })).toMatch(/unknown key "accounts\.store"/);
  });

  it('names a wrong type with the expected one and the value', () => {
    expect(problem({ history: '20' })).toBe(
      'chat-server: config /etc/chat/server.json: "history" must be a whole number 0-10000, got "20"',
    );
    expect(problem({ listen: { ircPort: 'none' } })).toMatch(
      /"listen\.ircPort" must be a whole number 0-65535 or "off", got "none"$/,
    );
    expect(problem({ motd: 'hi' })).toMatch(/"motd" must be an array of strings \(one per line\), got "hi"$/);
    expect(problem({ motd: ['ok', 3] })).toMatch(/"motd\[1\]" must be a string, got 3$/);
    expect(problem({ floodControl: { rate: 0 } })).toMatch(
      /"floodControl\.rate" must be a number > 0, got 0$/,
    );
    expect(problem({ floodControl: 'off' })).toMatch(/"floodControl" must be true or false or an object/);
    expect(problem({ accounts: { users: { ann: 1 } } })).toMatch(
      /"accounts\.users\.ann" must be a string or an object, got 1$/,
    );
    expect(problem({ accounts: { users: { ann: { scram: 's' } } } })).toMatch(
      /missing key "accounts\.users\.ann\.password"$/,
    );
    expect(problem({ accounts: { users: { ann: { password: 'h', salt: 'x' } } } })).toMatch(
      /unknown key "accounts\.users\.ann\.salt" \(known: password, scram\)$/,
    );
    expect(problem({ redis: 'http://x' })).toMatch(
      /"redis" must be a redis:\/\/ or rediss:\/\/ URL or an object/,
    );
    expect(problem({ tls: { certFile: 'c.pem' } })).toMatch(/missing key "tls\.keyFile"$/);
    expect(problem([])).toMatch(/the file must be an object, got an array$/);
  });

  it('resolves relative file paths against the config file, not the working directory', () => {
    const c = parseChatConfig(
      {
        tls: { certFile: 'tls/cert.pem', keyFile: '/abs/key.pem' },
        web: { tls: { certFile: '../web.pem', keyFile: 'web-key.pem' } },
        accounts: { file: 'accounts.json' },
      },
      '/etc/chat/server.json',
    );
    expect(c.options.tls).toEqual({ certFile: '/etc/chat/tls/cert.pem', keyFile: '/abs/key.pem' });
    expect(c.options.web?.tls).toEqual({ certFile: '/etc/web.pem', keyFile: '/etc/chat/web-key.pem' });
    expect(c.options.accounts?.file).toBe('/etc/chat/accounts.json');
  });

  it('takes an account as a hash or as { password, scram } (SCRAM-SHA-256 credentials)', () => {
    const users = { ann: 'scrypt$h', bob: { password: 'scrypt$b', scram: 'scram$b' } };
    expect(parseChatConfig({ accounts: { users } }, 'c.json').options.accounts?.users).toEqual(users);
  });

  it('takes redis as a URL or as redisBus options', () => {
    expect(parseChatConfig({ redis: 'redis://h:1' }, 'c.json').redis).toEqual({ url: 'redis://h:1' });
    expect(problem({ redis: { prefix: 'p' } })).toMatch(/missing key "redis\.url"$/);
  });

  it('says when the file is missing or not JSON', () => {
    expect(() => loadChatConfig('/nonexistent/chat.json')).toThrow(
      'chat-server: config /nonexistent/chat.json: no such file',
    );
    expect(() => loadChatConfig(README)).toThrow(/: not valid JSON: /);
  });
});
