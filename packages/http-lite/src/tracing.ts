import { channel } from 'node:diagnostics_channel';
import type { ExchangeSpec } from './internal/exchange.js';
import { redactFieldLines } from './internal/redact.js';

// Named like undici's channels (`undici:request:create` -> `http-lite:request:create`), so APM code maps
// one to the other. Every publish is behind `hasSubscribers`: nothing is built when nobody listens.
export const chCreate = channel('http-lite:request:create');
export const chBodySent = channel('http-lite:request:bodySent');
export const chHeaders = channel('http-lite:request:headers');
export const chTrailers = channel('http-lite:request:trailers');
export const chError = channel('http-lite:request:error');
export const chSendHeaders = channel('http-lite:client:sendHeaders');
export const chBeforeConnect = channel('http-lite:client:beforeConnect');
export const chConnected = channel('http-lite:client:connected');
export const chConnectError = channel('http-lite:client:connectError');

/** What every `http-lite:request:*` message carries as `request` (one object per attempt). */
export interface TraceRequest {
  /** `http://host:port` of the URL (no credentials). */
  origin: string;
  method: string;
  /** Path and query as sent (absolute-form through a forward proxy). */
  path: string;
  /** The request's field lines as sent (`name: value\r\n` each); Authorization, Proxy-Authorization and Cookie values read `(redacted)`. */
  headers: string;
  /** Whether the response ended (body included). */
  completed: boolean;
}

/** Where a pool connects, as `http-lite:client:*` messages carry it (`connectParams`). */
export interface TraceConnectParams {
  host: string;
  port: number;
  protocol: 'http:' | 'https:';
  /** `unix:/path`, `connect` or `proxy http://host:port` when not direct. */
  via: string | undefined;
}

/** @internal The message object for an exchange's spec (built once per attempt, only when traced). */
export function traceRequest(spec: ExchangeSpec): TraceRequest {
  const head = spec.head;
  const line = head.indexOf('\r\n');
  const requestLine = head.slice(0, line);
  return {
    origin: spec.origin,
    method: spec.method,
    path: requestLine.slice(spec.method.length + 1, requestLine.lastIndexOf(' ')),
    headers: redactFieldLines(head.slice(line + 2, head.length - 2)),
    completed: false,
  };
}
