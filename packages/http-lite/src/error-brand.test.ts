import { StreamsError } from '@asyncnet/streams';
import { requireDistCopy } from '@asyncnet-internal/test-support';
import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';

describe('HttpError brands', () => {
  it('instanceof holds for errors from another copy of the package (the built CJS file)', () => {
    const copy = requireDistCopy('http-lite') as {
      HttpError: new (code: string, message: string) => Error;
    };
    expect(copy.HttpError).not.toBe(HttpError);
    const foreign = new copy.HttpError('ERR_HTTP_PARSE', 'bad');
    expect(foreign instanceof HttpError).toBe(true);
    expect(foreign instanceof StreamsError).toBe(false);
    expect(new HttpError('ERR_HTTP_PARSE', 'x') instanceof (copy.HttpError as never)).toBe(true);
    expect(new Error('x') instanceof HttpError).toBe(false);
  });
});
