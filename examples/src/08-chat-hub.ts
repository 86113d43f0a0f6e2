// The tutorial's broadcast chat server again, on @asyncnet/chat: the same room, but a member that
// stops reading can no longer stall it.
//
//   node examples/run.mjs chat-hub
//
// What changes from the naive server of the previous example (see packages/chat/README.md):
// - broadcasting never awaits a member: each member has a bounded send queue; a member that falls
//   behind loses the oldest room lines (and is told), and one that stays stuck is disconnected;
// - members have nicks and rooms (`/join #room`, `/msg nick text`, ...), and stock IRC clients can
//   join the same rooms on a second port;
// - several servers can share rooms over Redis (`bus: redisBus({ url })`).
//
// The asyncio original has no equivalent of this part; it shows where the naive design goes.
import { ChatClient, createChatServer } from '@asyncnet/chat';

// The server: `await using` closes it (telling clients, flushing their queues) at the end.
await using server = createChatServer();
await server.listen({ host: '127.0.0.1', port: 0 }); // add `ircPort` for IRC clients
const port = server.address()?.port ?? 0;
console.log(`chat server on 127.0.0.1:${port}`);

// Three members: the first line a member sends is its nick, then it is in #lobby.
const alice = await ChatClient.connect('127.0.0.1', port, { nick: 'alice' });
const bob = await ChatClient.connect('127.0.0.1', port, { nick: 'bob' });
const carol = await ChatClient.connect('127.0.0.1', port, { nick: 'carol' });

// A client buffers events only while someone iterates it, so start listening before alice talks.
async function nextMessage(member: ChatClient): Promise<string> {
  for await (const ev of member) {
    if (ev.type === 'message') return `${member.nick} got: <${ev.from}> ${ev.text} (in ${ev.room})`;
  }
  throw new Error(`${member.nick} was disconnected`);
}
const received = Promise.all([nextMessage(bob), nextMessage(carol)]);
alice.say('hello, everyone');
for (const line of await received) console.log(line);

for (const member of [alice, bob, carol]) await member.close();
