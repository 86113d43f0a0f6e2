import { requireDistCopy } from '@asyncnet-internal/test-support';
import { describe, expect, it } from 'vitest';
import { brandError, hasErrorBrand } from './error-brand.js';
import { AbortedError, ConnectionClosedError, StreamsError, TimeoutError } from './errors.js';

describe('error brands', () => {
  it('instanceof holds for an error from another copy of the package (the built CJS file)', () => {
    const copy = requireDistCopy('streams') as {
      TimeoutError: new (message: string) => Error;
      StreamsError: unknown;
    };
    expect(copy.TimeoutError).not.toBe(TimeoutError);
    const foreign = new copy.TimeoutError('from the other copy');
    expect(foreign instanceof TimeoutError).toBe(true);
    expect(foreign instanceof StreamsError).toBe(true);
    expect(foreign instanceof AbortedError).toBe(false);
    expect(new AbortedError('here') instanceof (copy.TimeoutError as never)).toBe(false);
    expect(new TimeoutError('here') instanceof (copy.StreamsError as never)).toBe(true);
  });

  it('keeps the ordinary checks and rejects look-alikes', () => {
    expect(new ConnectionClosedError('x') instanceof ConnectionClosedError).toBe(true);
    expect(new ConnectionClosedError('x') instanceof Error).toBe(true);
    expect(new Error('x') instanceof StreamsError).toBe(false);
    expect({ name: 'TimeoutError', code: 'ERR_TIMEOUT' } instanceof TimeoutError).toBe(false);
    expect((null as unknown as object) instanceof StreamsError).toBe(false);
    // The brand is not an enumerable field: it never shows up in logs or deep equality.
    expect(Object.keys(new TimeoutError('x'))).toEqual(['name', 'code']);
  });

  it('separates families of different packages with the same class name', () => {
    class OtherError extends Error {
      constructor() {
        super('other');
        brandError(this, new.target, 'other');
      }
      static override [Symbol.hasInstance](value: unknown): boolean {
        // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass being asked about
        return hasErrorBrand(this, value, 'other');
      }
    }
    expect(new OtherError() instanceof OtherError).toBe(true);
    expect(new OtherError() instanceof StreamsError).toBe(false);
    expect(new StreamsError('ERR_ABORTED', 'x') instanceof OtherError).toBe(false);
  });
});
