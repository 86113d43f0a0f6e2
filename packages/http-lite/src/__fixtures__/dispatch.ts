import type { Agent, Dispatch, DispatchRequest, RequestOptions } from '../index.js';
import { coreDispatch } from '../internal/core-dispatch.js';

/** A request as a user layer could write it from scratch (validated by the core like any changed request). */
export function requestOf(url: string, options: RequestOptions = {}, method = 'GET'): DispatchRequest {
  return { method, url, headers: [], body: null, options };
}

/** The agent's innermost dispatch, with every request it is given recorded in `seen`. */
export function recordingCore(agent: Agent): { dispatch: Dispatch; seen: DispatchRequest[] } {
  const core = coreDispatch(agent);
  const seen: DispatchRequest[] = [];
  return {
    seen,
    dispatch: (req) => {
      seen.push(req);
      return core(req);
    },
  };
}
