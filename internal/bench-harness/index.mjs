// The one benchmark harness every package's bench/run.mjs uses: options, rounds with alternating
// peer order, statistics, ratios and the printed table. Workloads and peers stay in each package;
// only the bookkeeping around them lives here, so every table reads the same way.

/**
 * A bench option from `--name value` on the command line, else the `BENCH_NAME` environment
 * variable (dashes become underscores), else `fallback`. Numbers are parsed when `fallback` is one.
 */
export function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  const raw =
    i !== -1 && i + 1 < process.argv.length
      ? process.argv[i + 1]
      : process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
  if (raw === undefined || raw === '') return fallback;
  if (typeof fallback !== 'number') return raw;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`bench option --${name} must be a number, got '${raw}'`);
  return n;
}

/** True when `--name` is on the command line or `BENCH_NAME=1`. */
export function flag(name) {
  const env = process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
  return process.argv.includes(`--${name}`) || (env !== undefined && env !== '' && env !== '0');
}

/**
 * The order peers run in during round `round` (0-based): the list rotated by the round, so over
 * as many rounds as there are peers each one runs first once and no peer always follows another.
 */
export function alternate(names, round) {
  const k = round % names.length;
  return [...names.slice(k), ...names.slice(0, k)];
}

/**
 * Runs `fn(name, round)` for every peer in every round, peers alternating (see `alternate`).
 * Returns `{ [name]: [result of round 0, round 1, …] }`. `onRound(round)` runs after each round.
 */
export async function runRounds(rounds, names, fn, { onRound } = {}) {
  const results = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (const name of alternate(names, round)) results[name].push(await fn(name, round));
    onRound?.(round);
  }
  return results;
}

/** Median (the upper one for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The best value: the largest, or the smallest when `lowerIsBetter`. */
export function best(xs, lowerIsBetter = false) {
  return lowerIsBetter ? Math.min(...xs) : Math.max(...xs);
}

/** The `p`th percentile (0..100) of an ascending array; NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `fmt(lo)-fmt(hi)`, or one value when they are equal or there is one sample. */
export function range(xs, fmt = String) {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return xs.length === 1 || lo === hi ? fmt(lo) : `${fmt(lo)}-${fmt(hi)}`;
}

/** A table cell: the median and, with more than one sample, the range: `fmt(median) (lo-hi)`. */
export function cell(xs, fmt = String) {
  return xs.length > 1 ? `${fmt(median(xs))} (${range(xs, fmt)})` : fmt(xs[0]);
}

/** `a / b` as `1.23x`; `n/a` when either side is missing or the quotient is not finite. */
export function ratio(a, b, digits = 2) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a / b)) return 'n/a';
  return `${(a / b).toFixed(digits)}x`;
}

/** Prints a markdown table, columns padded so it also reads as plain text; `title` above it. */
export function printTable(title, header, rows) {
  const all = [header, ...rows].map((r) => r.map(String));
  const widths = header.map((_, c) => Math.max(3, ...all.map((r) => r[c]?.length ?? 0)));
  const line = (r) => `| ${widths.map((w, c) => (r[c] ?? '').padEnd(w)).join(' | ')} |`;
  console.log(`\n${title}\n`);
  console.log(line(all[0]));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of all.slice(1)) console.log(line(r));
}

/** The closing line every bench prints: node version, wall time, and the caveat. */
export function footer(startedAt, note = '') {
  const secs = ((Date.now() - startedAt) / 1000).toFixed(1);
  console.log(
    `\nnode ${process.version}, ${secs} s; loopback on a shared machine: numbers are noisy.${note ? ` ${note}` : ''}`,
  );
}
