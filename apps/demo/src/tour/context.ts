import type { Cleanup, Narrator } from './narrator.js';

/** What every tour section gets. */
export interface TourContext {
  /** Writes the transcript. */
  n: Narrator;
  /** Servers and connections the section opened; run when the section ends. */
  cleanup: Cleanup;
  /** The tour's self-signed certificate (made once, on first use). */
  cert(): { key: string; cert: string };
}
