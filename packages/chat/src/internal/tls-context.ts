import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { StreamTransport } from '@asyncnet/streams/adapter';
import { ChatError } from '../errors.js';

/**
 * The IRC TLS listener's certificate: loaded from files, swapped whole by {@link load}. Each
 * connection is accepted as TCP and upgraded with the context current at that moment, so a reload
 * applies to the next handshake and never disturbs open connections.
 */
export class TlsCertificate {
  readonly #certFile: string;
  readonly #keyFile: string;
  #context: SecureContext | null = null;

  constructor(certFile: string, keyFile: string) {
    this.#certFile = certFile;
    this.#keyFile = keyFile;
  }

  /**
   * Reads both files and builds a new context; on any failure the previous one stays in use.
   * @throws ChatError `ERR_TLS_CERT` naming the file and what was wrong
   */
  async load(): Promise<void> {
    let cert: Buffer;
    let key: Buffer;
    try {
      [cert, key] = await Promise.all([readFile(this.#certFile), readFile(this.#keyFile)]);
    } catch (err) {
      throw new ChatError('ERR_TLS_CERT', `cannot read tls certificate or key: ${(err as Error).message}`, {
        cause: err,
      });
    }
    try {
      this.#context = createSecureContext({ cert, key });
    } catch (err) {
      throw new ChatError(
        'ERR_TLS_CERT',
        `bad tls certificate ${this.#certFile} or key ${this.#keyFile}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  /**
   * Runs the server side of the handshake on a freshly accepted connection.
   * @returns false when it failed or timed out (the connection is then closed)
   */
  async upgrade(t: StreamTransport, timeoutMs: number): Promise<boolean> {
    try {
      await t.startTls({ server: true, secureContext: this.#context!, handshakeTimeout: timeoutMs });
      return true;
    } catch {
      t.abort();
      return false;
    }
  }
}
