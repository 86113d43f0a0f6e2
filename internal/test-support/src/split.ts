/**
 * Splits `bytes` at the given cut points, for property tests that feed parsers at random
 * boundaries. Cuts are taken modulo `length + 1`, deduplicated and sorted; empty pieces are kept.
 */
export function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}
