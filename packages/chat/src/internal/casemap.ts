// RFC 1459 casemapping: A-Z ~ a-z plus []\~ ~ {}|^ (Scandinavian heritage of IRC).
const FOLD = new Uint8Array(128);
for (let i = 0; i < 128; i++) FOLD[i] = i;
for (let i = 65; i <= 90; i++) FOLD[i] = i + 32;
FOLD[91] = 123; // [ -> {
FOLD[92] = 124; // \ -> |
FOLD[93] = 125; // ] -> }
FOLD[94] = 126; // ^ -> ~

/** Folds a nick or channel name with rfc1459 casemapping (non-ASCII left as is). */
export function foldCase(name: string): string {
  let out = '';
  let changed = false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const f = c < 128 ? FOLD[c]! : c;
    if (f !== c) changed = true;
    out += String.fromCharCode(f);
  }
  return changed ? out : name;
}

// RFC 2812 nick: ( letter / special ) *( letter / digit / special / "-" ); special = []\`_^{|}
const NICK_RE = /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]*$/;
// Channel: '#' then anything except space, comma, BEL, NUL, CR, LF, ':'.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const ROOM_RE = /^#[^\s,\x07\0:]+$/;

/** Returns null when `nick` is acceptable, else a lowercase reason. */
export function nickProblem(nick: string, maxLength: number): string | null {
  if (nick.length === 0) return 'nick is empty';
  if (nick.length > maxLength) return `nick "${nick}" is longer than ${maxLength} characters`;
  if (!NICK_RE.test(nick)) return `nick "${nick}" has characters outside letters, digits and []\\\`_^{|}-`;
  // Plain clients read `* you ...` as the server talking about them (`* you joined #room`,
  // `* you are now known as ...`): a member called "you" could forge those lines with /me.
  if (foldCase(nick) === 'you') return `nick "${nick}" is reserved`;
  return null;
}

// C0/C1 controls (IRC formatting bytes included), soft hyphen, zero-width and bidi controls,
// word joiners, BOM: invisible in a room name, so two rooms could look the same.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const INVISIBLE_RE = /[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/;

/** Returns null when `room` is acceptable, else a lowercase reason. */
export function roomProblem(room: string, maxLength: number): string | null {
  if (room.length > maxLength) return `room "${room}" is longer than ${maxLength} characters`;
  if (INVISIBLE_RE.test(room))
    return `room ${JSON.stringify(room)} holds control, formatting or invisible characters`;
  if (!ROOM_RE.test(room)) return `room "${room}" must start with # and hold no spaces, commas or colons`;
  return null;
}
