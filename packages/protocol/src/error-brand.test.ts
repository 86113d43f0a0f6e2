import { StreamsError } from '@asyncnet/streams';
import { requireDistCopy } from '@asyncnet-internal/test-support';
import { describe, expect, it } from 'vitest';
import { FrameError, FrameTooLargeError, ProtocolError } from './errors.js';

describe('ProtocolError brands', () => {
  it('instanceof holds for errors from another copy of the package (the built CJS file)', () => {
    const copy = requireDistCopy('protocol') as {
      FrameTooLargeError: new (length: number, max: number) => Error;
      ProtocolError: new (code: string, message: string) => Error;
    };
    expect(copy.FrameTooLargeError).not.toBe(FrameTooLargeError);
    const foreign = new copy.FrameTooLargeError(10, 5);
    expect(foreign instanceof FrameTooLargeError).toBe(true);
    expect(foreign instanceof FrameError).toBe(true);
    expect(foreign instanceof ProtocolError).toBe(true);
    expect(foreign instanceof StreamsError).toBe(false);
    expect(new copy.ProtocolError('ERR_INVALID_ARGUMENT', 'x') instanceof FrameError).toBe(false);
    expect(new FrameTooLargeError(10, 5) instanceof (copy.ProtocolError as never)).toBe(true);
    expect(new Error('x') instanceof ProtocolError).toBe(false);
  });
});
