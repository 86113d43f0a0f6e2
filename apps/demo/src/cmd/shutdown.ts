/**
 * Runs `close` once on the first SIGINT or SIGTERM; a second signal exits at once.
 * @param close - graceful shutdown; the process exits when it resolves and nothing else is pending
 */
export function onShutdown(close: (signal: string) => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      process.stderr.write(`${signal} again: exiting now\n`);
      process.exit(130);
    }
    closing = true;
    close(signal).then(
      () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      },
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
