import { verifyPassword } from '../../../passwords.js';
import type { IrcConn } from '../../irc-conn.js';
import { formatIrcMessage as fmt } from '../../irc-message.js';
import * as N from '../numerics.js';
import type { IrcCommand } from './types.js';

export const oper: Record<string, IrcCommand> = {
  OPER: {
    min: 2,
    async run(c, m) {
      const [name, password] = m.params as [string, string];
      const entry = c.ctx.opts.operators.find((o) => o.name === name);
      // Same answer for an unknown name and a wrong password: no oracle for operator names.
      if (entry === undefined || !(await verifyPassword(password, entry.password))) {
        c.reply(N.ERR_PASSWDMISMATCH, 'Password incorrect');
        return;
      }
      if (c.closing || c.umodes.has('o')) return;
      c.umodes.add('o');
      c.reply(N.RPL_YOUREOPER, 'You are now an IRC operator');
      c.send(fmt(c.prefix, 'MODE', [c.nick, '+o'], true));
    },
  },
  KILL: {
    min: 2,
    run(c, m) {
      if (!c.umodes.has('o'))
        return c.reply(N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator");
      const target = c.ctx.hub.member(m.params[0]!);
      if (target === undefined) return c.reply(N.ERR_NOSUCHNICK, m.params[0]!, 'No such nick/channel');
      target.kill(c.nick, m.params[1]!);
    },
  },
  WALLOPS: {
    min: 1,
    run(c, m) {
      if (!c.umodes.has('o'))
        return c.reply(N.ERR_NOPRIVILEGES, "Permission Denied- You're not an IRC operator");
      const line = fmt(c.prefix, 'WALLOPS', [m.params[0]!], true);
      // Modern: to users with +w; servers MAY echo it to the sender, which we do as confirmation.
      for (const x of c.ctx.hub.members.values()) {
        if (x.kind === 1 && x.registered && (x.umodes.has('w') || x === c)) (x as IrcConn).send(line);
      }
    },
  },
};
