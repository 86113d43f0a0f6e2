import type { ParsedArgs } from '../args.js';
import { makeSelfSignedCert } from '../cert.js';
import { describeError } from '../errors.js';
import { colourFor, createStyle } from '../style.js';
import { chatSection } from './chat.js';
import type { TourContext } from './context.js';
import { httpSection } from './http.js';
import { Cleanup, ms, Narrator, within } from './narrator.js';
import { protocolSection } from './protocol.js';
import { streamsSection } from './streams.js';

interface Section {
  pkg: string;
  title: string;
  run: (ctx: TourContext) => Promise<void>;
}

/** All sections together end within this many ms (the tour promises < 15 s; cleanups are capped at 1 s each and normally take milliseconds). */
const TOUR_DEADLINE_MS = 12_500;

const SECTIONS: Section[] = [
  {
    pkg: 'streams',
    title: "asyncio's StreamReader/StreamWriter over TCP, TLS and UDP",
    run: streamsSection,
  },
  {
    pkg: 'protocol',
    title: 'Protocol/Transport callbacks and framing codecs',
    run: protocolSection,
  },
  {
    pkg: 'http-lite',
    title: 'a strict HTTP/1.1 client: GET, POST, chunked, keep-alive, HTTPS',
    run: httpSection,
  },
  {
    pkg: 'chat',
    title: 'a chat server for plain and IRC clients that never waits for a slow one',
    run: chatSection,
  },
];

/**
 * Runs the tour, writing the transcript to `out`.
 * @returns the number of sections that failed
 */
export async function runTour(out: NodeJS.WriteStream): Promise<number> {
  const style = createStyle(colourFor(out));
  const n = new Narrator(out, style);
  let certificate: { key: string; cert: string } | null = null;
  const cert = () => (certificate ??= makeSelfSignedCert());
  const started = performance.now();
  n.line(style.bold('asyncnet tour: every package, live on 127.0.0.1 (nothing leaves this machine)'));
  n.line(
    style.dim(
      'Each section starts real servers, shows the traffic, and measures one thing. Numbers vary with load.',
    ),
  );
  let failed = 0;
  for (const [i, section] of SECTIONS.entries()) {
    n.section(i + 1, SECTIONS.length, section.pkg, section.title);
    const cleanup = new Cleanup();
    const t0 = performance.now();
    // One deadline for the whole tour (it must end within 15 s), keeping a little time for each
    // later section: a section slowed by a busy machine may use what earlier ones left.
    const reserve = (SECTIONS.length - i - 1) * 800;
    const budget = Math.max(500, started + TOUR_DEADLINE_MS - performance.now() - reserve);
    try {
      await within(`the ${section.pkg} section`, budget, section.run({ n, cleanup, cert }));
      n.line(style.dim(`    (${section.pkg} section took ${ms(performance.now() - t0)})`));
    } catch (err) {
      failed++;
      n.failed(`${section.pkg} section failed: ${describeError(err)}`);
    } finally {
      await within('cleanup', 1000, cleanup.run()).catch(() => {});
    }
  }
  n.line();
  const total = performance.now() - started;
  if (failed === 0) {
    n.line(
      style.green(
        `✓ tour finished in ${ms(total)}: streams, protocol, http-lite and chat all worked, ${n.measurements} measurements`,
      ),
    );
    n.line(
      style.dim('  next: asyncnet-demo --help (echo-server, echo-client, get, chat-server, chat, bench)'),
    );
  } else {
    n.line(style.red(`✗ tour finished in ${ms(total)} with ${failed} failed section(s)`));
  }
  return failed;
}

/** `asyncnet-demo tour` (also the default command). */
export async function runTourCommand(_args: ParsedArgs): Promise<number> {
  const failed = await runTour(process.stdout);
  // Servers are closed; anything left (a stray timer in a dependency) must not keep the tour alive.
  setTimeout(() => process.exit(failed === 0 ? 0 : 1), 1000).unref();
  return failed === 0 ? 0 : 1;
}
