import { describe, expect, it } from 'vitest';
import { colourFor, settleColourEnv } from './style.js';

const tty = { isTTY: true };
const pipe = { isTTY: false };

describe('colourFor', () => {
  it('does colour on a TTY and not on a pipe when nothing is set', () => {
    expect(colourFor(tty, {})).toBe(true);
    expect(colourFor(pipe, {})).toBe(false);
  });

  it('does turn colour off with NO_COLOR, even when FORCE_COLOR is set', () => {
    expect(colourFor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colourFor(tty, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(colourFor(tty, { NODE_DISABLE_COLORS: '1' })).toBe(false);
  });

  it('does treat an empty NO_COLOR as unset and FORCE_COLOR=0 as off', () => {
    expect(colourFor(tty, { NO_COLOR: '' })).toBe(true);
    expect(colourFor(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourFor(pipe, { FORCE_COLOR: '' })).toBe(true);
    expect(colourFor(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourFor(tty, { FORCE_COLOR: 'false' })).toBe(false);
  });
});

describe('settleColourEnv', () => {
  const settled = (env: Record<string, string>) => {
    const copy: Record<string, string | undefined> = { ...env };
    settleColourEnv(copy);
    return copy;
  };

  it('does leave a single colour variable alone', () => {
    expect(settled({ NO_COLOR: '1' })).toEqual({ NO_COLOR: '1' });
    expect(settled({ FORCE_COLOR: '1' })).toEqual({ FORCE_COLOR: '1' });
    expect(settled({ PATH: '/bin' })).toEqual({ PATH: '/bin' });
  });

  it('does keep NO_COLOR and drop FORCE_COLOR when both are set', () => {
    expect(settled({ NO_COLOR: '1', FORCE_COLOR: '1' })).toEqual({ NO_COLOR: '1' });
    expect(settled({ NO_COLOR: '1', FORCE_COLOR: '' })).toEqual({ NO_COLOR: '1' });
    expect(settled({ NODE_DISABLE_COLORS: '1', FORCE_COLOR: '3' })).toEqual({
      NODE_DISABLE_COLORS: '1',
      NO_COLOR: '1',
    });
  });

  it('does keep what colourFor decided', () => {
    const cases: Record<string, string>[] = [
      { NO_COLOR: '', FORCE_COLOR: '1' },
      { NO_COLOR: '', FORCE_COLOR: '0' },
      { NO_COLOR: '1', FORCE_COLOR: '0' },
      { NO_COLOR: 'x', FORCE_COLOR: '' },
    ];
    for (const env of cases) {
      const after = settled(env);
      expect(after.FORCE_COLOR !== undefined && after.NO_COLOR !== undefined).toBe(false);
      for (const stream of [tty, pipe]) expect(colourFor(stream, after)).toBe(colourFor(stream, env));
    }
  });
});
