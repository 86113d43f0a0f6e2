import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ircUser, type LineClient, plainUser } from './__fixtures__/line-client.js';
import { hashPassword } from './passwords.js';
import { type ChatServer, createChatServer } from './server.js';

// Debian's chromium (`.ci/run` installs it); without it these tests are skipped, loudly.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  console.warn(
    `[web-client.test] SKIPPED: no chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );

// `CHAT_SCREENSHOT=1` refreshes the README's screenshots (docs/web-client*.png) from this run.
const DOCS = fileURLToPath(new URL('../docs/', import.meta.url));
const SAVE_SCREENSHOTS = process.env.CHAT_SCREENSHOT === '1';

let browser: Browser;
const servers: ChatServer[] = [];
const clients: LineClient[] = [];
const contexts: BrowserContext[] = [];
const others: Server[] = [];

async function start(options: Parameters<typeof createChatServer>[0] = {}) {
  const server = createChatServer({
    log: () => {},
    floodControl: false,
    ...options,
    web: { ...options.web },
  });
  servers.push(server);
  await server.listen({ host: '127.0.0.1', port: 0, ircPort: 0 });
  return {
    server,
    port: server.address()!.port,
    irc: server.ircAddress()!.port,
    http: server.webUrl()!.replace(/\/$/, ''),
  };
}

async function track<T extends LineClient>(c: Promise<T>): Promise<T> {
  const x = await c;
  clients.push(x);
  return x;
}

/** A fresh browser context (its own storage) with a page that records dialogs and requests. */
async function newPage(viewport = { width: 1100, height: 680 }) {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  // Fail inside the test's own 20 s with a message naming what was awaited.
  page.setDefaultTimeout(8_000);
  const dialogs: string[] = [];
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, dialogs, requests, errors };
}

/** Opens `/?nick=…&room=…` and waits until the page is in the room. */
async function join(page: Page, http: string, nick: string, room = '#lobby'): Promise<void> {
  await page.goto(`${http}/?nick=${encodeURIComponent(nick)}&room=${encodeURIComponent(room)}`);
  await page.locator('#status[data-state="connected"]').waitFor({ state: 'attached' });
  // Attached, not visible: on a phone the member panel is closed.
  await page
    .locator(`#buffer-list [data-buffer="${room}"][aria-current="page"]`)
    .waitFor({ state: 'attached' });
  await page.locator(`#member-list li[data-nick="${nick}"]`).waitFor({ state: 'attached' });
}

/** A log line of `kind` (optionally from `nick`) containing `text`. */
function line(page: Page, kind: string, text: string, nick?: string) {
  const sel = `#log .line[data-kind="${kind}"]${nick === undefined ? '' : `[data-nick="${nick}"]`}`;
  return page.locator(sel).filter({ hasText: text });
}

beforeAll(async () => {
  if (haveChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 30_000);

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  for (const c of clients.splice(0)) c.close();
  for (const s of others.splice(0)) s.close();
  await Promise.all(servers.splice(0).map((s) => s.close({ timeout: 200 })));
});

describe.skipIf(!haveChromium)('web client in headless chromium', () => {
  it('joins #lobby from the URL; TCP IRC and plain clients see it and its messages, and it shows theirs', async () => {
    const { irc, port, http } = await start();
    const i = await track(ircUser(irc, 'irky'));
    i.send('JOIN #lobby');
    await i.waitFor(/ 366 irky #lobby /);
    const p = await track(plainUser(port, 'plainy'));
    const { page, errors, requests } = await newPage();
    await join(page, http, 'webby');
    await i.waitFor(/^:webby!~webby@127\.0\.0\.1 JOIN #lobby$/);
    await p.waitFor(/^\* webby joined #lobby$/);
    await page.locator('#member-list li[data-nick="irky"]').waitFor();
    await page.locator('#member-list li[data-nick="plainy"]').waitFor();

    await page.locator('#input').fill('hello from the browser');
    await page.keyboard.press('Enter');
    await i.waitFor(/^:webby!~webby@127\.0\.0\.1 PRIVMSG #lobby :hello from the browser$/);
    await p.waitFor(/^<webby> hello from the browser$/);
    // Shown once, from the server's echo (with its msgid and time).
    await line(page, 'msg', 'hello from the browser', 'webby').waitFor();
    expect(await line(page, 'msg', 'hello from the browser', 'webby').count()).toBe(1);

    let t0 = Date.now();
    i.send('PRIVMSG #lobby :hi from irssi');
    await line(page, 'msg', 'hi from irssi', 'irky').waitFor({ timeout: 5_000 });
    const ircLatency = Date.now() - t0;
    t0 = Date.now();
    p.send('hi from nc');
    await line(page, 'msg', 'hi from nc', 'plainy').waitFor({ timeout: 5_000 });
    const plainLatency = Date.now() - t0;
    // The issue's bar: within 1 s (it takes a few ms; the slack is for a loaded machine).
    expect(Math.max(ircLatency, plainLatency)).toBeLessThan(1_000);

    // server-time: the timestamp shown is the server's, machine-readable in <time datetime>.
    const dt = await line(page, 'msg', 'hi from irssi').locator('time').getAttribute('datetime');
    expect(Math.abs(Date.parse(dt!) - Date.now())).toBeLessThan(60_000);
    // The creator of #lobby is op: the member list shows the prefix.
    expect(await page.locator('#member-list li[data-nick="irky"] .prefix').textContent()).toBe('@');
    expect(errors).toEqual([]);
    // No request left the server's origin.
    expect(requests.filter((u) => !u.startsWith(http))).toEqual([]);
  });

  it('shows /me, private messages, nick changes and topics on both sides', async () => {
    const { irc, port, http } = await start();
    const i = await track(ircUser(irc, 'irky'));
    i.send('JOIN #lobby');
    await i.waitFor(/ 366 irky #lobby /);
    const p = await track(plainUser(port, 'plainy'));
    const { page } = await newPage();
    await join(page, http, 'webby');
    // Anyone may set the topic (the creator, irky, is op and +t is the default).
    i.send('MODE #lobby -t');
    await line(page, 'mode', '-t', 'irky').waitFor();
    const input = page.locator('#input');
    const say = async (text: string) => {
      await input.fill(text);
      await input.press('Enter');
    };

    await say('/me waves');
    await i.waitFor((l) => /^:webby!\S+ PRIVMSG #lobby :/.test(l) && l.endsWith('\x01ACTION waves\x01'));
    await p.waitFor(/^\*+ webby waves$/);
    await line(page, 'action', 'waves', 'webby').waitFor();
    i.send('PRIVMSG #lobby :\x01ACTION nods\x01');
    await line(page, 'action', 'nods', 'irky').waitFor();

    // PMs: from the page to both kinds of client, and back into a conversation buffer.
    await say('/msg plainy psst plain');
    await p.waitFor(/^\*webby\* psst plain$/);
    await say('/msg irky psst irc');
    await i.waitFor(/^:webby!\S+ PRIVMSG irky :psst irc$/);
    i.send('PRIVMSG webby :secret back');
    await page.locator('#buffer-list [data-buffer="irky"]').waitFor();
    await page.locator('#buffer-list [data-buffer="irky"]').click();
    await line(page, 'msg', 'secret back', 'irky').waitFor();
    await line(page, 'msg', 'psst irc', 'webby').waitFor();
    p.send('/msg webby from nc');
    await page.locator('#buffer-list [data-buffer="plainy"] .badge').waitFor();
    await page.locator('#buffer-list [data-buffer="#lobby"]').click();

    // Topic from the page, then from IRC.
    await say('/topic all about the web');
    await i.waitFor(/^:webby!\S+ TOPIC #lobby :all about the web$/);
    await p.waitFor(/^\* webby set the topic of #lobby to: all about the web$/);
    await page.locator('#topic', { hasText: 'all about the web' }).waitFor();
    i.send('TOPIC #lobby :irc sets the topic');
    await page.locator('#topic', { hasText: 'irc sets the topic' }).waitFor();
    await line(page, 'topic', 'irc sets the topic', 'irky').waitFor();

    // Nick changes, ours and theirs.
    await say('/nick webster');
    await i.waitFor(/^:webby!\S+ NICK :?webster$/);
    await p.waitFor(/^\* webby is now known as webster$/);
    await page.locator('#own-nick', { hasText: 'webster' }).waitFor();
    await page.locator('#member-list li[data-nick="webster"]').waitFor();
    i.send('NICK irkster');
    await line(page, 'nick', 'irkster', 'irky').waitFor();
    await page.locator('#member-list li[data-nick="irkster"]').waitFor();
    expect(await page.locator('#member-list li[data-nick="irky"]').count()).toBe(0);

    // Away shows in the member list (away-notify) and comes back.
    i.send('AWAY :lunch');
    await page.locator('#member-list li[data-nick="irkster"] .member.away').waitFor();
    await say('/away brb');
    await page.locator('#own-nick.away').waitFor();
    await say('/back');
    await page.locator('#own-nick:not(.away)').waitFor();
  });

  it('renders network text as text: markup in a message fires nothing, formatting is styled, links are safe', async () => {
    const { irc, http } = await start();
    const i = await track(ircUser(irc, 'mallory'));
    i.send('JOIN #lobby');
    await i.waitFor(/ 366 mallory #lobby /);
    const { page, dialogs, errors } = await newPage();
    await join(page, http, 'victim');
    const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    i.send(`PRIVMSG #lobby :${evil}`);
    i.send('TOPIC #lobby :<b onmouseover=alert(3)>topic</b>');
    i.send(
      'PRIVMSG #lobby :\x02bold\x02 \x0304red\x03 see https://example.com/a_(b). or javascript:alert(4)',
    );
    await page.locator('#topic', { hasText: '<b onmouseover=alert(3)>topic</b>' }).waitFor();
    const text = line(page, 'msg', '<img', 'mallory').locator('.text');
    await text.waitFor();
    expect(await text.textContent()).toBe(evil);
    expect(await page.locator('#log img, #log script, #topic b').count()).toBe(0);
    const fmt = line(page, 'msg', 'bold', 'mallory');
    await fmt.waitFor();
    expect(await fmt.locator('.f-b').textContent()).toBe('bold');
    expect(await fmt.locator('.fg-4').textContent()).toBe('red');
    const a = fmt.locator('a');
    expect(await a.count()).toBe(1);
    expect(await a.getAttribute('href')).toBe('https://example.com/a_(b)');
    expect(await a.getAttribute('rel')).toBe('noopener noreferrer');
    // Give a dialog every chance to fire: hover the topic, then round-trip the server.
    await page.locator('#topic').hover();
    i.send('PRIVMSG #lobby :done');
    await line(page, 'msg', 'done', 'mallory').waitFor();
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('serves the page with a CSP that forbids inline script and other origins', async () => {
    const { http } = await start();
    const res = await fetch(`${http}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).toContain('<script src="/app.js" defer></script>');
    expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
    const js = await fetch(`${http}/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    // The browser enforces it: an inline script injected into the page does not run.
    const { page } = await newPage();
    await page.goto(`${http}/`);
    await page.locator('#connect-form').waitFor();
    // (Page functions are strings: this file is typechecked without the DOM library.)
    const ran = await page.evaluate(`(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.appendChild(s);
      return window.__inline === 1;
    })()`);
    expect(ran).toBe(false);
    // Without ?nick= the page asks: the form connects and joins the rooms given.
    await page.locator('#connect-nick').fill('former');
    await page.locator('#connect-rooms').fill('#forms, side');
    await page.locator('#connect-form button[type="submit"]').click();
    await page.locator('#buffer-list [data-buffer="#side"]').waitFor();
    await page.locator('#buffer-list [data-buffer="#forms"][aria-current="page"]').waitFor();
    await page.locator('#member-list li[data-nick="former"]').waitFor();
  });

  it('refuses a WebSocket from a page on a foreign origin', async () => {
    const { server, http } = await start();
    const webPort = server.webAddress()!.port;
    // Another origin (another port) whose page tries to talk to the chat server.
    const evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><script>
        const ws = new WebSocket('ws://127.0.0.1:${webPort}/', ['text.ircv3.net']);
        ws.onopen = () => { document.title = 'open'; };
        ws.onclose = (e) => { document.title = 'closed ' + e.code; };
      </script>`);
    });
    others.push(evil);
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const { page } = await newPage();
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    await expect.poll(() => page.title(), { timeout: 8_000 }).toMatch(/^(closed|open)/);
    expect(await page.title()).toBe('closed 1006');
    expect(server.stats().disconnects['origin refused']).toBe(1);
    // Its own page on the same server connects fine.
    const own = await newPage();
    await join(own.page, http, 'native');
  });

  it('reconnects with backoff after being dropped and catches up through the chathistory batch', async () => {
    const hash = await hashPassword('sekrit');
    const { irc, http } = await start({ operators: [{ name: 'op', password: hash }] });
    const i = await track(ircUser(irc, 'oper'));
    i.send('OPER op sekrit');
    await i.waitFor(/ 381 oper /);
    i.send('JOIN #lobby');
    await i.waitFor(/ 366 oper #lobby /);
    const { page } = await newPage();
    const sent: string[] = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => sent.push(String(f.payload))));
    await join(page, http, 'flaky');
    i.send('PRIVMSG #lobby :before the drop');
    await line(page, 'msg', 'before the drop').waitFor();
    i.send('KILL flaky :testing reconnects');
    await i.waitFor(/^:flaky!\S+ QUIT /);
    // Said while the page is away: it can only arrive through the history replayed on rejoin.
    i.send('PRIVMSG #lobby :while you were away');
    await page.locator('#status[data-state="waiting"]').waitFor();
    await page.locator('#retry').waitFor();
    await i.waitFor(/^:flaky!\S+ JOIN #lobby$/, 15_000);
    await page.locator('#status[data-state="connected"]').waitFor();
    const missed = line(page, 'msg', 'while you were away', 'oper');
    await missed.waitFor();
    expect(await missed.getAttribute('class')).toContain('history');
    // What the page already had is not shown twice.
    expect(await line(page, 'msg', 'before the drop').count()).toBe(1);
    // Beyond the replay window it asked for everything since the last line it had.
    expect(
      sent.some((f) => /^CHATHISTORY AFTER #lobby timestamp=\d{4}-\d\d-\d\dT[\d:.]+Z 100$/.test(f)),
    ).toBe(true);
    await page.locator('#member-list li[data-nick="oper"]').waitFor();
  });

  it('rooms, unread markers and the keyboard: switch with Alt+arrows, complete nicks with Tab', async () => {
    const { irc, http } = await start();
    const i = await track(ircUser(irc, 'irky'));
    i.send('JOIN #lobby,#dev');
    await i.waitFor(/ 366 irky #dev /);
    const { page } = await newPage();
    await page.goto(`${http}/?nick=keys&room=%23lobby,%23dev`);
    await page.locator('#buffer-list [data-buffer="#dev"]').waitFor();
    await page.locator('#buffer-list [data-buffer="#lobby"][aria-current="page"]').waitFor();
    i.send('PRIVMSG #dev :one in dev');
    i.send('PRIVMSG #dev :keys: two in dev');
    const badge = page.locator('#buffer-list [data-buffer="#dev"] .badge');
    await badge.filter({ hasText: '2' }).waitFor();
    expect(await badge.getAttribute('class')).toContain('highlight');
    await expect.poll(() => page.title(), { timeout: 8_000 }).toMatch(/^\(2\) /);
    // Alt+Up moves to the buffer above (server, #dev, #lobby); the unread marker sits before the
    // first unseen line.
    await page.locator('#input').focus();
    await page.keyboard.press('Alt+ArrowUp');
    await page.locator('#buffer-list [data-buffer="#dev"][aria-current="page"]').waitFor();
    await page.locator('#log .unread-marker + .line', { hasText: 'one in dev' }).waitFor();
    expect(await badge.count()).toBe(0);
    // Tab completes a member's nick at the start of the line.
    await page.locator('#input').fill('ir');
    await page.keyboard.press('Tab');
    expect(await page.locator('#input').inputValue()).toBe('irky: ');
    await page.keyboard.press('Alt+ArrowDown');
    await page.locator('#buffer-list [data-buffer="#lobby"][aria-current="page"]').waitFor();
    // The room list (LIST) opens as a dialog and joins on click.
    i.send('JOIN #elsewhere');
    await i.waitFor(/ 366 irky #elsewhere /);
    await page.locator('#browse-rooms').click();
    await page.locator('#room-browser [data-room="#elsewhere"]').click();
    await page.locator('#buffer-list [data-buffer="#elsewhere"][aria-current="page"]').waitFor();
    await i.waitFor(/^:keys!\S+ JOIN #elsewhere$/);
    await page.locator('#input').fill('/part bye now');
    await page.keyboard.press('Enter');
    await i.waitFor(/^:keys!\S+ PART #elsewhere :bye now$/);
  });

  it('works on a phone-sized screen: panels open from the top bar; takes the README screenshots', async () => {
    const { irc, port, http } = await start();
    const i = await track(ircUser(irc, 'ada'));
    i.send('JOIN #lobby,#dev');
    await i.waitFor(/ 366 ada #dev /);
    i.send('TOPIC #lobby :Welcome! IRC, nc and the browser share this room — https://example.com/docs');
    const p = await track(plainUser(port, 'grace'));
    const wide = await newPage();
    await wide.page.goto(`${http}/?nick=linus&room=%23lobby,%23dev`);
    await wide.page.locator('#buffer-list [data-buffer="#dev"]').waitFor();
    await wide.page.locator('#member-list li[data-nick="linus"]').waitFor();
    i.send('PRIVMSG #lobby :morning all');
    p.send('morning! I am on nc');
    i.send('PRIVMSG #lobby :\x01ACTION pours coffee\x01');
    const input = wide.page.locator('#input');
    await input.fill('hello from the browser, with a link: https://example.com/');
    await input.press('Enter');
    await line(wide.page, 'msg', 'hello from the browser', 'linus').waitFor();
    i.send('PRIVMSG #lobby :linus: welcome!');
    await line(wide.page, 'msg', 'welcome!', 'ada').waitFor();
    p.send('/msg linus psst, the web client works from nc too');
    i.send('PRIVMSG #dev :\x02build\x02 is \x0303green\x03');
    await wide.page.locator('#buffer-list [data-buffer="grace"] .badge').waitFor();
    await wide.page.locator('#buffer-list [data-buffer="#dev"] .badge').waitFor();
    const shot = await wide.page.screenshot();
    expect(shot.length).toBeGreaterThan(10_000);

    const phone = await newPage({ width: 390, height: 760 });
    await join(phone.page, http, 'mobile');
    await line(phone.page, 'join', 'joined', 'mobile').waitFor();
    const phoneShot = await phone.page.screenshot();
    const box = await phone.page.locator('#members').boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(390);
    await phone.page.locator('#toggle-members').click();
    await phone.page.locator('#members.open').waitFor();
    // The panel slides in (a transition): poll its box from here (no eval in a CSP'd page).
    await expect
      .poll(
        async () => {
          const b = await phone.page.locator('#members').boundingBox();
          return b === null ? Number.NaN : b.x + b.width;
        },
        { timeout: 8_000 },
      )
      .toBeLessThanOrEqual(391);
    await phone.page.keyboard.press('Escape');
    await phone.page.locator('#members:not(.open)').waitFor();
    await phone.page.locator('#toggle-buffers').click();
    await phone.page.locator('#buffers.open [data-buffer="#lobby"]').waitFor();
    if (SAVE_SCREENSHOTS) {
      mkdirSync(DOCS, { recursive: true });
      await wide.page.screenshot({ path: `${DOCS}web-client.png` });
      writeFileSync(`${DOCS}web-client-mobile.png`, phoneShot);
    }
  });
});
