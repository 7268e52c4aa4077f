import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../api/types';
import * as Log from './chatLog';
import { applyReaction, emptyLog, mergeMessages, mentionAtCaret, replaceMessage, splitMentions } from './chatLog';

const m = (seq: number, client_id = `c${seq}`, sender = 'u1', created_at = seq * 1000): ChatMessage => ({
  id: `m${seq}`,
  room: 'r',
  seq,
  sender,
  client_id,
  body: `body ${seq}`,
  created_at,
});

describe('chat log', () => {
  it('orders by seq and drops repeats (missed + live)', () => {
    let l = Log.mergeMessages(Log.emptyLog, [m(3), m(1)]);
    l = Log.mergeMessages(l, [m(2), m(3)]);
    expect(l.messages.map((x) => x.seq)).toEqual([1, 2, 3]);
    expect(l.lastSeq).toBe(3);
  });

  it('clears a pending send when its message arrives', () => {
    let l = Log.addPending(Log.emptyLog, { client_id: 'w-1', body: 'hi', created_at: 0 });
    l = Log.addPending(l, { client_id: 'w-2', body: 'yo', created_at: 0 });
    l = Log.mergeMessages(l, [m(7, 'w-1')]);
    expect(l.pending.map((p) => p.client_id)).toEqual(['w-2']);
    l = Log.failPending(l, 'w-2', 'rate_limited');
    expect(l.pending[0].failed).toBe('rate_limited');
  });

  it('knows when the start of the room is reached', () => {
    let l = Log.mergeMessages(Log.emptyLog, [m(60), m(61)]);
    l = Log.addOlder(l, Array.from({ length: 50 }, (_, i) => m(i + 10)), 50);
    expect(l.hasOlder).toBe(true);
    l = Log.addOlder(l, [m(1), m(2)], 50);
    expect(l.hasOlder).toBe(false);
    expect(Log.oldestSeq(l)).toBe(1);
  });

  it('counts unread messages from what this browser has shown', () => {
    localStorage.clear();
    let seen = Log.loadSeen();
    expect(Log.unread(5, seen.r)).toBe(5);
    seen = Log.markSeen(seen, 'r', 5);
    expect(Log.unread(7, seen.r)).toBe(2);
    expect(Log.markSeen(seen, 'r', 3)).toBe(seen); // never goes back
    expect(Log.loadSeen()).toEqual({ r: 5 });
    expect(Log.unread(500, 0)).toBe(99);
  });

  it('groups consecutive messages of one sender', () => {
    const msgs = [m(1, 'a', 'u1', 0), m(2, 'b', 'u1', 60_000), m(3, 'c', 'u2', 61_000), m(4, 'd', 'u2', 10 * 60_000)];
    expect(msgs.map((_, i) => Log.startsGroup(msgs, i))).toEqual([true, false, true, true]);
  });
});

describe('chat extras', () => {
  const msg = (seq: number, over: Partial<ChatMessage> = {}): ChatMessage => ({ id: `m${seq}`, room: 'r', seq, sender: 's', client_id: `c${seq}`, body: `b${seq}`, created_at: seq, ...over });
  it('replaces an edited or deleted message by seq, keeping known reactions', () => {
    let l = mergeMessages(emptyLog, [msg(1, { reactions: [{ emoji: '🔥', count: 2, mine: true }] })]);
    l = replaceMessage(l, msg(1, { body: 'fixed', edited_at: 5, reactions: [] }));
    expect(l.messages[0].body).toBe('fixed');
    expect(l.messages[0].reactions).toHaveLength(1);
    l = replaceMessage(l, msg(1, { body: '', deleted: true }));
    expect(l.messages[0].reactions).toEqual([]);
    expect(replaceMessage(l, msg(9))).toBe(l);
  });
  it('sets reaction counts from the server and drops emptied ones', () => {
    let l = mergeMessages(emptyLog, [msg(1)]);
    l = applyReaction(l, 'm1', '🔥', 1, undefined);
    expect(l.messages[0].reactions).toEqual([{ emoji: '🔥', count: 1, mine: false }]);
    l = applyReaction(l, 'm1', '🔥', 2, true);
    expect(l.messages[0].reactions).toEqual([{ emoji: '🔥', count: 2, mine: true }]);
    l = applyReaction(l, 'm1', '🔥', 2, undefined);
    expect(l.messages[0].reactions?.[0].mine).toBe(true);
    l = applyReaction(l, 'm1', '🔥', 0, false);
    expect(l.messages[0].reactions).toEqual([]);
  });
  it('finds mentions, not e-mail addresses', () => {
    expect(splitMentions('hi @bob and a@b.c')).toEqual([
      { text: 'hi ', mention: false },
      { text: '@bob', mention: true },
      { text: ' and a@b.c', mention: false },
    ]);
    expect(splitMentions('@al!')).toEqual([
      { text: '@al', mention: true },
      { text: '!', mention: false },
    ]);
  });
  it('knows the @word being typed at the caret', () => {
    expect(mentionAtCaret('hey @bo', 7)).toEqual({ start: 4, query: 'bo' });
    expect(mentionAtCaret('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAtCaret('mail a@b', 8)).toBeNull();
    expect(mentionAtCaret('hey @bob there', 14)).toBeNull();
  });
});
