import { describe, expect, it } from 'vitest';
import { ScramClient } from '../__fixtures__/scram-client.js';
import {
  deriveScram,
  formatScram,
  parseClientFirst,
  parseScram,
  serverFirst,
  verifyClientFinal,
} from './scram.js';

// RFC 7677 §3.
const SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
const SERVER_FIRST = `r=${CLIENT_NONCE}${SERVER_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
const CLIENT_FINAL = `c=biws,r=${CLIENT_NONCE}${SERVER_NONCE},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';

describe('SCRAM-SHA-256 (server side)', () => {
  it('reproduces the RFC 7677 test vector', async () => {
    const keys = await deriveScram('pencil', SALT, 4096);
    const cf = parseClientFirst(`n,,n=user,r=${CLIENT_NONCE}`)!;
    expect(cf).toMatchObject({ user: 'user', gs2Header: 'n,,', clientNonce: CLIENT_NONCE });
    const ex = serverFirst(cf, keys, SERVER_NONCE);
    expect(ex.serverFirst).toBe(SERVER_FIRST);
    expect(verifyClientFinal(ex, keys, CLIENT_FINAL)).toBe(SERVER_FINAL);
    // The tests' own client agrees with the RFC as well.
    const client = new ScramClient('user', 'pencil', CLIENT_NONCE);
    expect(client.first()).toBe(`n,,n=user,r=${CLIENT_NONCE}`);
    expect(client.final(SERVER_FIRST)).toBe(CLIENT_FINAL);
    expect(client.verifyServer(SERVER_FINAL)).toBe(true);
  });

  it('refuses a wrong proof, a changed nonce or channel binding, and a proof of the wrong length', async () => {
    const keys = await deriveScram('pencil', SALT, 4096);
    const ex = serverFirst(parseClientFirst(`n,,n=user,r=${CLIENT_NONCE}`)!, keys, SERVER_NONCE);
    const tampered = (find: string, put: string) =>
      verifyClientFinal(ex, keys, CLIENT_FINAL.replace(find, put));
    expect(tampered('p=dHzb', 'p=dHzc')).toBeNull();
    expect(tampered('k0,p=', 'k1,p=')).toBeNull();
    expect(tampered('c=biws', 'c=eSws')).toBeNull();
    expect(tampered(/p=.*$/.exec(CLIENT_FINAL)![0], 'p=AAAA')).toBeNull();
    expect(verifyClientFinal(ex, keys, 'c=biws')).toBeNull();
    expect(verifyClientFinal(ex, keys, '')).toBeNull();
    // The same exchange with the right password but other stored keys fails too.
    expect(verifyClientFinal(ex, await deriveScram('pencil2', SALT, 4096), CLIENT_FINAL)).toBeNull();
  });

  it('parses client-first-message strictly', () => {
    expect(parseClientFirst('n,,n=a=2Cb=3Dc,r=xyz')?.user).toBe('a,b=c');
    expect(parseClientFirst('y,,n=u,r=xyz')?.gs2Header).toBe('y,,');
    expect(parseClientFirst('n,a=u,n=u,r=xyz')?.gs2Header).toBe('n,a=u,');
    for (const bad of [
      'p=tls-unique,,n=u,r=xyz', // channel binding: no -PLUS mechanism is offered
      'n,a=other,n=u,r=xyz', // authzid other than the user
      'n,,m=ext,n=u,r=xyz', // reserved mandatory extension
      'n,,n=a=2Db,r=xyz', // bad saslname escape
      'n,,n=,r=xyz',
      'n,,n=u,r=',
      'n,,n=u,r=a,b',
      'n,,r=xyz,n=u',
      `n,,n=u,r=${'x'.repeat(257)}`,
      'n,,n=u',
      '',
    ])
      expect(parseClientFirst(bad), bad).toBeNull();
  });

  it('round-trips stored credentials and refuses malformed or absurd ones', async () => {
    const keys = await deriveScram('pw');
    const text = formatScram(keys);
    expect(parseScram(text)).toEqual(keys);
    expect(parseScram(text.replace('$4096$', '$100$'))).toBeNull();
    expect(parseScram(text.replace('$4096$', '$99999999$'))).toBeNull();
    expect(parseScram(`${text}A`)).toBeNull();
    expect(parseScram(text.replace('scram-sha-256', 'scram-sha-1'))).toBeNull();
    expect(parseScram(42)).toBeNull();
  });
});
