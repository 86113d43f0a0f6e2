import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

declare const __CHAT_WEB_DIR__: string | undefined;

/** One file of the web client, held in memory (the whole client is a few tens of KiB). */
export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/**
 * The page may run only its own script and style and talk only to this server: no inline script
 * or style, no other origin (`'self'` covers ws:/wss: to the same host in CSP Level 3), no
 * framing, no `<base>`, no plugins.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers on every HTTP response of the web listener. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const FILES: ReadonlyArray<[path: string, file: string, type: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
  ['/app.css', 'app.css', 'text/css; charset=utf-8'],
  ['/favicon.svg', 'favicon.svg', 'image/svg+xml'],
];

/**
 * Where the bundled client lives: `dist/web/` beside the built entry point (the build defines
 * `__CHAT_WEB_DIR__`), or the package's `dist/web/` when running from `src` (tests build it first).
 */
export function webClientDir(): string {
  const rel = typeof __CHAT_WEB_DIR__ === 'string' ? __CHAT_WEB_DIR__ : '../../../dist/web/';
  return fileURLToPath(new URL(rel, import.meta.url));
}

/**
 * Reads the web client into memory.
 * @returns the files by URL path, or the path of the first missing file
 */
export function loadAssets(dir = webClientDir()): Map<string, Asset> | { missing: string } {
  const out = new Map<string, Asset>();
  for (const [path, file, type] of FILES) {
    let body: Buffer;
    try {
      body = readFileSync(`${dir}${file}`);
    } catch {
      return { missing: `${dir}${file}` };
    }
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    out.set(path, { body, type, etag });
  }
  return out;
}
