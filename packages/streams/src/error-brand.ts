/**
 * `instanceof` that holds across duplicate copies of a package (two versions in one tree, ESM and
 * CJS side by side): every branded error carries, under one global symbol, the names of the
 * classes it was built from, and each branded class checks that list as well as its prototype.
 */
const kBrands: unique symbol = Symbol.for('@asyncnet/error-brands') as never;

type Branded = { [kBrands]?: readonly string[] };

/**
 * Records `error`'s class chain, from its own class up to (not including) `Error`, as brands
 * `"<scope>:<ClassName>"`. Call it from a package's base error constructor with `new.target`.
 *
 * Never name the class itself inside its own body (pass `new.target`, and use `this` in
 * `static [Symbol.hasInstance]`): a bundler renames a class that refers to itself (`class _MyError`),
 * and the brand is its name. For adapter authors writing their own error family on the core.
 *
 * @param error - the error being constructed
 * @param target - `new.target` in the base constructor
 * @param scope - the package, e.g. `'streams'`, so same-named classes of two packages differ
 * @example
 * ```ts
 * class MyError extends Error {
 *   constructor(message: string) {
 *     super(message);
 *     brandError(this, new.target, 'my-package');
 *   }
 *   static override [Symbol.hasInstance](value: unknown): boolean {
 *     return hasErrorBrand(this, value, 'my-package');
 *   }
 * }
 * ```
 */
export function brandError(
  error: Error,
  target: abstract new (...args: never[]) => unknown,
  scope: string,
): void {
  const names: string[] = [];
  for (let c: unknown = target; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
    names.push(`${scope}:${(c as { name: string }).name}`);
  }
  Object.defineProperty(error, kBrands, { value: names, enumerable: false, configurable: true });
}

/**
 * The `Symbol.hasInstance` check of a branded class: the ordinary prototype check, or a brand
 * recorded by any copy of the same package.
 *
 * @param ctor - the class `instanceof` is asked about (`this` in `static [Symbol.hasInstance]`)
 * @param value - the value on the left of `instanceof`
 * @param scope - the package scope given to {@link brandError}
 * @returns whether `value` is an instance of `ctor` in any copy of the package
 */
export function hasErrorBrand(ctor: object, value: unknown, scope: string): boolean {
  if (Function.prototype[Symbol.hasInstance].call(ctor, value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const names = (value as Branded)[kBrands];
  return Array.isArray(names) && names.includes(`${scope}:${(ctor as { name: string }).name}`);
}
