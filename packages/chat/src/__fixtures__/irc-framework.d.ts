// irc-framework ships no types; the tests use this much of it.
declare module 'irc-framework' {
  export class Client {
    connect(options: Record<string, unknown>): void;
    on(event: string, listener: (ev: never) => void): this;
    join(channel: string): void;
    say(target: string, message: string): void;
    changeNick(nick: string): void;
    quit(message?: string): void;
    raw(...line: string[]): void;
    tagmsg(target: string, tags: Record<string, string>): void;
    requestCap(cap: string | string[]): void;
  }
}
