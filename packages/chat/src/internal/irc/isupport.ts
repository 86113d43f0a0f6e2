import type { Resolved } from '../context.js';
import { FLAG_MODES, LIST_MODES } from '../room.js';

/** PRIVMSG/NOTICE/... targets per command (TARGMAX) and per line (MAXTARGETS). */
export const MAX_TARGETS = 4;
/** Most messages one CHATHISTORY reply holds (CHATHISTORY). */
export const CHATHISTORY_MAX = 100;
/** Membership prefixes a message target may carry (STATUSMSG), the PREFIX symbols. */
export const STATUS = '@+';
/** Mode changes with a parameter per MODE line (MODES). */
export const MAX_MODES = 4;

/**
 * The 005 tokens, every one derived from a limit the server enforces (Modern: "RPL_ISUPPORT"),
 * so a client that trusts them never trips a hidden limit.
 */
export function isupportTokens(o: Resolved): string[] {
  return [
    `AWAYLEN=${o.awayMaxLength}`,
    'CASEMAPPING=rfc1459',
    `CHANLIMIT=#:${o.maxRoomsPerClient}`,
    `CHANMODES=${LIST_MODES},k,l,${FLAG_MODES}`,
    `CHANNELLEN=${o.roomMaxLength}`,
    `CHATHISTORY=${CHATHISTORY_MAX}`,
    'CHANTYPES=#',
    'ELIST=MNU',
    'EXCEPTS',
    'INVEX',
    `KICKLEN=${o.kickMaxLength}`,
    'LINELEN=512',
    `MAXLIST=${LIST_MODES}:${o.maxBans}`,
    `MAXTARGETS=${MAX_TARGETS}`,
    `MODES=${MAX_MODES}`,
    'MSGREFTYPES=msgid,timestamp',
    `NETWORK=${o.network}`,
    `NICKLEN=${o.nickMaxLength}`,
    'PREFIX=(ov)@+',
    'SAFELIST',
    `STATUSMSG=${STATUS}`,
    `TARGMAX=PRIVMSG:${MAX_TARGETS},NOTICE:${MAX_TARGETS},TAGMSG:${MAX_TARGETS},JOIN:,PART:,NAMES:,WHOIS:1,KICK:1,ISON:,USERHOST:5`,
    `TOPICLEN=${o.topicMaxLength}`,
    'USERLEN=10',
    'WHOX',
  ];
}
