import type { IrcConn } from '../../irc-conn.js';
import type { IrcMessage } from '../../irc-message.js';

/** One IRC command: how many parameters it needs (else 461) and whether it works before 001. */
export interface IrcCommand {
  min?: number;
  pre?: boolean;
  run(c: IrcConn, msg: IrcMessage): void | Promise<void>;
}
