/** A loopback port that was free a moment ago, for a child process to listen on. */
export function freePort(): Promise<number>;

/** Resolves once `port` accepts connections; rejects when `child` exits first or `ms` pass. */
export function waitPort(
  port: number,
  child: { readonly exitCode: number | null },
  name: string,
  ms?: number,
): Promise<void>;
