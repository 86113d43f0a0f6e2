import { describe, expect, it } from 'vitest';
import { HttpHeaders } from './headers.js';

describe('HttpHeaders', () => {
  const h = new HttpHeaders([
    ['Content-Type', 'text/plain'],
    ['Set-Cookie', 'a=1; Path=/'],
    ['X-Multi', 'one'],
    ['set-cookie', 'b=2'],
    ['x-multi', 'two'],
  ]);

  it('looks names up case-insensitively and joins repeats, except through getAll', () => {
    expect(h.get('content-type')).toBe('text/plain');
    expect(h.get('X-MULTI')).toBe('one, two');
    expect(h.getAll('set-cookie')).toEqual(['a=1; Path=/', 'b=2']);
    expect(h.get('missing')).toBeNull();
    expect(h.getAll('missing')).toEqual([]);
    expect(h.has('SET-COOKIE')).toBe(true);
    expect(h.has('nope')).toBe(false);
    expect(h.size).toBe(5);
  });

  it('iterates each field line in wire order with lowercased names', () => {
    expect([...h.entries()]).toEqual([
      ['content-type', 'text/plain'],
      ['set-cookie', 'a=1; Path=/'],
      ['x-multi', 'one'],
      ['set-cookie', 'b=2'],
      ['x-multi', 'two'],
    ]);
    expect([...h]).toEqual([...h.entries()]);
    expect(h.raw()[3]).toEqual(['set-cookie', 'b=2']);
    expect(h.toJSON()).toEqual({
      'content-type': 'text/plain',
      'set-cookie': 'a=1; Path=/, b=2',
      'x-multi': 'one, two',
    });
  });
});
