import { account } from './account.js';
import { channel } from './channel.js';
import { history } from './chathistory.js';
import { messaging } from './messaging.js';
import { mode } from './mode.js';
import { oper } from './oper.js';
import { query } from './query.js';
import { registration } from './registration.js';
import { serverInfo } from './server-info.js';
import type { IrcCommand } from './types.js';

export type { IrcCommand } from './types.js';

/** Every IRC command by name: adding one is adding an entry. */
export const COMMANDS: Readonly<Record<string, IrcCommand>> = Object.freeze({
  ...registration,
  ...channel,
  ...mode,
  ...messaging,
  ...query,
  ...serverInfo,
  ...oper,
  ...account,
  ...history,
});
