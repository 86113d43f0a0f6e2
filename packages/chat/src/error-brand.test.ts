import { StreamsError } from '@asyncnet/streams';
import { requireDistCopy } from '@asyncnet-internal/test-support';
import { describe, expect, it } from 'vitest';
import { ChatError } from './errors.js';

describe('ChatError brands', () => {
  it('instanceof holds for errors from another copy of the package (the built CJS file)', () => {
    const copy = requireDistCopy('chat') as {
      ChatError: new (code: string, message: string) => Error;
    };
    expect(copy.ChatError).not.toBe(ChatError);
    const foreign = new copy.ChatError('ERR_INVALID_NICK', 'bad nick');
    expect(foreign instanceof ChatError).toBe(true);
    expect(foreign instanceof StreamsError).toBe(false);
    expect(new ChatError('ERR_INVALID_NICK', 'x') instanceof (copy.ChatError as never)).toBe(true);
    expect(new Error('x') instanceof ChatError).toBe(false);
    expect(Object.keys(foreign)).not.toContain('Symbol(@asyncnet/error-brands)');
  });
});
