/**
 * Where accounts live, for SASL PLAIN and SCRAM-SHA-256, `/login`, REGISTER, `/register` and nick
 * ownership. The built-in stores keep them in memory and, with `accounts.file`, in a JSON file (one
 * node), or in Redis ({@link redisAccountStore}, the default when the bus is a `redisBus`); pass
 * your own as `accounts.store` to keep them elsewhere (a database).
 *
 * @example
 * ```ts
 * const store: ChatAccountStore = {
 *   verify: async (name, password) => ((await db.check(name, password)) ? name : null),
 *   register: (name, password) => db.create(name, password),
 *   exists: (name) => db.has(name),
 * };
 * createChatServer({ accounts: { store, registration: true } });
 * ```
 */
export interface ChatAccountStore {
  /**
   * @param name - account name as the user typed it
   * @param password - the password given
   * @returns the account's own spelling when the password is right, else null
   */
  verify(name: string, password: string): Promise<string | null>;
  /**
   * Creates an account (store a hash, never the password: {@link hashPassword}, and
   * {@link hashScram} for {@link ChatAccountStore.scramCredentials}). Several nodes may register
   * the same name at once: exactly one call may return true.
   * @returns false when the name is taken
   */
  register(name: string, password: string): Promise<boolean>;
  /** Whether an account of that name exists (a registered nick needs a login to be kept). */
  exists(name: string): Promise<boolean>;
  /**
   * The SCRAM-SHA-256 credentials of an account ({@link hashScram} text, derived when the
   * account was registered), for SASL `SCRAM-SHA-256`. A store without this method offers only
   * PLAIN; an account it answers null for (unknown, or created before SCRAM credentials were kept)
   * fails a SCRAM login exactly as a wrong password does, and logs in with PLAIN.
   * @param name - account name as the user typed it
   * @returns the account's own spelling and its credentials, or null
   */
  scramCredentials?(name: string): Promise<{ account: string; scram: string } | null>;
  /**
   * Called by {@link ChatServer.listen} before the listeners open (connect to the database). The
   * store may be shared by several servers: each calls open once and close once.
   */
  open?(): Promise<void>;
  /** Called by {@link ChatServer.close} (disconnect once every server that opened it closed). */
  close?(): Promise<void>;
  /**
   * False while the store cannot answer (its database is unreachable). SASL and registration are
   * then withdrawn from IRC clients with `CAP DEL` and offered again with `CAP NEW` (cap-notify).
   * @default always available
   */
  available?(): boolean;
  /**
   * Subscribes to changes of {@link available}.
   * @returns a function that unsubscribes
   */
  onAvailability?(listener: (available: boolean) => void): () => void;
}
