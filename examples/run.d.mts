/** What {@link runTypeScript} reports about the child process. */
export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** `true` when `timeoutMs` passed and the child was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  /** `'inherit'` to print as it runs (nothing is captured), else output is captured. @default 'pipe' */
  stdio?: 'inherit' | 'pipe';
  /** Kills the child with SIGKILL after this many ms. @default none */
  timeoutMs?: number;
  /** Arguments for the program. */
  args?: string[];
}

/** Bundles `file` (TypeScript, `@asyncnet/*` from the packages' source) into one ES module at `outfile`. */
export function bundle(file: string, outfile: string): Promise<void>;
/** Bundles and runs `file` in a child Node process. */
export function runTypeScript(file: string, options?: RunOptions): Promise<RunResult>;
/** The examples in tutorial order. */
export function examples(): { name: string; file: string }[];
