/** @internal Passed as `lower` by the response parser: compute the lower-case names on first lookup. */
export const LAZY_LOWER: string[] = [];

function lowerNames(raw: [string, string][]): string[] {
  const out = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw[i]![0].toLowerCase();
  return out;
}

/**
 * A read-only, case-insensitive multi-map of HTTP fields in wire order.
 *
 * @example
 * ```ts
 * const h = new HttpHeaders([['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']]);
 * h.get('SET-COOKIE'); // 'a=1, b=2'
 * h.getAll('set-cookie'); // ['a=1', 'b=2']
 * ```
 */
export class HttpHeaders implements Iterable<[string, string]> {
  readonly #raw: [string, string][];
  #lowerNames: string[] | null;

  /**
   * @param raw - `[name, value]` pairs in wire order (kept, not copied).
   * @param lower - optional lowercased names, parallel to `raw` (computed when omitted).
   */
  constructor(raw: [string, string][] = [], lower?: string[]) {
    this.#raw = raw;
    this.#lowerNames = lower === LAZY_LOWER ? null : (lower ?? lowerNames(raw));
  }

  /** The lower-case names, made on first use when the parser left them out (most responses are never looked into). */
  get #lower(): string[] {
    return (this.#lowerNames ??= lowerNames(this.#raw));
  }

  /**
   * Returns every value of a field joined with `", "` (RFC 9110 5.3), or `null` if absent.
   * Use {@link HttpHeaders.getAll} for `Set-Cookie`, whose values must never be joined.
   * @param name - field name, any case.
   * @returns the combined value or `null`.
   */
  get(name: string): string | null {
    const key = name.toLowerCase();
    const lower = this.#lower;
    let out: string | null = null;
    for (let i = 0; i < lower.length; i++) {
      if (lower[i] === key) {
        const v = this.#raw[i]![1];
        out = out === null ? v : `${out}, ${v}`;
      }
    }
    return out;
  }

  /**
   * Returns each value of a field separately, in wire order.
   * @param name - field name, any case.
   * @returns the values (empty when absent).
   */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.#lower.length; i++) if (this.#lower[i] === key) out.push(this.#raw[i]![1]);
    return out;
  }

  /**
   * @param name - field name, any case.
   * @returns whether the field is present.
   */
  has(name: string): boolean {
    return this.#lower.includes(name.toLowerCase());
  }

  /** Number of field lines. */
  get size(): number {
    return this.#raw.length;
  }

  /**
   * Iterates `[lowercased name, value]` per field line in wire order (repeated fields are not merged).
   * @returns an iterator of pairs.
   */
  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.#raw.length; i++) yield [this.#lower[i]!, this.#raw[i]![1]];
  }

  /** Same as {@link HttpHeaders.entries}. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /**
   * @returns the fields as a plain object with lowercased names; repeated values are joined with `", "`.
   */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.#raw.length; i++) {
      const k = this.#lower[i]!;
      const v = this.#raw[i]![1];
      out[k] = k in out ? `${out[k]}, ${v}` : v;
    }
    return out;
  }

  /** @returns the original `[name, value]` pairs in wire order and original case. */
  raw(): [string, string][] {
    return this.#raw;
  }
}
