// IRC formatting and links to DOM nodes. Every piece of text from the network becomes a Text node
// (never HTML); styles are fixed class names, so no attribute ever carries network data except a
// link's href, which must parse as an http(s) URL.

interface Style {
  b: boolean;
  i: boolean;
  u: boolean;
  s: boolean;
  m: boolean;
  fg: number;
  bg: number;
  rev: boolean;
}

const plain = (): Style => ({ b: false, i: false, u: false, s: false, m: false, fg: -1, bg: -1, rev: false });

// http(s) URLs up to whitespace or characters that end them in prose.
// biome-ignore lint/suspicious/noControlCharactersInRegex: a URL ends at a control character
const URL_RE = /\bhttps?:\/\/[^\s<>"'`\x00-\x1f]+/gi;

/** Trailing punctuation belongs to the sentence, a closing paren only when it is unbalanced. */
function trimUrl(url: string): string {
  let u = url;
  for (;;) {
    const last = u.at(-1);
    if (last === undefined) return u;
    if ('.,;:!?\'"'.includes(last)) u = u.slice(0, -1);
    else if (last === ')' && (u.match(/\(/g)?.length ?? 0) < (u.match(/\)/g)?.length ?? 0))
      u = u.slice(0, -1);
    else return u;
  }
}

/** A safe anchor for `url`, or null when it is not an http(s) URL. */
export function link(url: string): HTMLAnchorElement | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const a = document.createElement('a');
  a.href = parsed.href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  a.textContent = url;
  return a;
}

/** Appends `text` to `parent` with URLs as links. */
export function appendLinkified(parent: Node, text: string): void {
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = trimUrl(m[0]);
    const a = link(url);
    if (a === null) continue;
    if (m.index > at) parent.appendChild(document.createTextNode(text.slice(at, m.index)));
    parent.appendChild(a);
    at = m.index + url.length;
  }
  if (at < text.length) parent.appendChild(document.createTextNode(text.slice(at)));
}

function classes(st: Style): string {
  const c: string[] = [];
  if (st.b) c.push('f-b');
  if (st.i) c.push('f-i');
  if (st.u) c.push('f-u');
  if (st.s) c.push('f-s');
  if (st.m) c.push('f-m');
  const fg = st.rev ? st.bg : st.fg;
  const bg = st.rev ? st.fg : st.bg;
  if (st.rev && fg === -1 && bg === -1) c.push('f-rev');
  if (fg >= 0 && fg < 16) c.push(`fg-${fg}`);
  if (bg >= 0 && bg < 16) c.push(`bg-${bg}`);
  return c.join(' ');
}

const DIGIT = /[0-9]/;

/**
 * Renders IRC text (bold \x02, colour \x03, italics \x1d, underline \x1f, strike \x1e, monospace
 * \x11, reverse \x16, reset \x0f; hex colour \x04 is dropped) as a fragment of spans and links.
 */
export function formatIrc(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  let st = plain();
  let run = '';
  const flush = () => {
    if (run === '') return;
    const cls = classes(st);
    if (cls === '') appendLinkified(frag, run);
    else {
      const span = document.createElement('span');
      span.className = cls;
      appendLinkified(span, run);
      frag.appendChild(span);
    }
    run = '';
  };
  for (let k = 0; k < text.length; k++) {
    const ch = text[k]!;
    switch (ch) {
      case '\x02':
        flush();
        st = { ...st, b: !st.b };
        break;
      case '\x1d':
        flush();
        st = { ...st, i: !st.i };
        break;
      case '\x1f':
        flush();
        st = { ...st, u: !st.u };
        break;
      case '\x1e':
        flush();
        st = { ...st, s: !st.s };
        break;
      case '\x11':
        flush();
        st = { ...st, m: !st.m };
        break;
      case '\x16':
        flush();
        st = { ...st, rev: !st.rev };
        break;
      case '\x0f':
        flush();
        st = plain();
        break;
      case '\x03': {
        flush();
        let j = k + 1;
        let fg = '';
        while (fg.length < 2 && j < text.length && DIGIT.test(text[j]!)) fg += text[j++];
        let bg = '';
        if (fg !== '' && text[j] === ',' && DIGIT.test(text[j + 1] ?? '')) {
          j++;
          while (bg.length < 2 && j < text.length && DIGIT.test(text[j]!)) bg += text[j++];
        }
        k = j - 1;
        st =
          fg === ''
            ? { ...st, fg: -1, bg: -1 }
            : { ...st, fg: Number(fg), bg: bg === '' ? st.bg : Number(bg) };
        break;
      }
      case '\x04': {
        // Hex colours: skip the codes, keep the text plain.
        let j = k + 1;
        if (/^[0-9a-fA-F]{6}/.test(text.slice(j))) j += 6;
        if (text[j] === ',' && /^[0-9a-fA-F]{6}/.test(text.slice(j + 1))) j += 7;
        k = j - 1;
        break;
      }
      default:
        // Other C0 controls would show as boxes; CTCP's \x01 is handled before this.
        if (ch < ' ') break;
        run += ch;
    }
  }
  flush();
  return frag;
}

/** The text without any formatting codes (for titles, notifications, comparisons). */
export function stripIrc(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing IRC formatting codes is the point
  return text.replace(/\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?|[\x00-\x1f]/g, '');
}
