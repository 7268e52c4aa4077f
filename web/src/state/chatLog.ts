// One room's messages as the client knows them: ordered by seq, no repeats. The server may
// deliver a message twice (in `missed` and live, see docs/websocket.md "No gaps on reconnect"),
// and our own sends come back both as `ack` and as a live `message`.
import type { ChatMessage } from '../api/types';

export interface PendingMessage {
  client_id: string;
  body: string;
  created_at: number;
  failed?: string;
}

export interface RoomLog {
  messages: ChatMessage[];
  pending: PendingMessage[];
  // Older history exists before messages[0] (false once a page came back short).
  hasOlder: boolean;
  lastSeq: number;
}

export const emptyLog: RoomLog = { messages: [], pending: [], hasOlder: true, lastSeq: 0 };

export function mergeMessages(log: RoomLog, incoming: ChatMessage[]): RoomLog {
  if (!incoming.length) return log;
  const bySeq = new Map<number, ChatMessage>();
  for (const m of log.messages) bySeq.set(m.seq, m);
  for (const m of incoming) bySeq.set(m.seq, m);
  const messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const arrived = new Set(incoming.map((m) => m.client_id));
  const pending = log.pending.filter((p) => !arrived.has(p.client_id));
  const lastSeq = Math.max(log.lastSeq, messages.length ? messages[messages.length - 1].seq : 0);
  return { ...log, messages, pending, lastSeq };
}

export function addOlder(log: RoomLog, older: ChatMessage[], pageSize: number): RoomLog {
  const merged = mergeMessages(log, older);
  const reachedStart = older.length < pageSize || (merged.messages.length > 0 && merged.messages[0].seq <= 1);
  return { ...merged, hasOlder: !reachedStart };
}

export function addPending(log: RoomLog, p: PendingMessage): RoomLog {
  return { ...log, pending: [...log.pending, p] };
}

export function failPending(log: RoomLog, clientId: string, reason: string): RoomLog {
  return { ...log, pending: log.pending.map((p) => (p.client_id === clientId ? { ...p, failed: reason } : p)) };
}

export function oldestSeq(log: RoomLog): number | null {
  return log.messages.length ? log.messages[0].seq : null;
}

// Consecutive messages from one sender within five minutes read as one group.
export function startsGroup(messages: ChatMessage[], i: number): boolean {
  if (i === 0) return true;
  const a = messages[i - 1];
  const b = messages[i];
  return a.sender !== b.sender || b.created_at - a.created_at > 5 * 60 * 1000;
}

// Unread counts from the rooms list: last_seq against the last seq this browser showed.
const SEEN_KEY = 'veza-chat-seen';

export function loadSeen(): Record<string, number> {
  try {
    return JSON.parse(globalThis.localStorage?.getItem(SEEN_KEY) ?? '{}');
  } catch {
    return {};
  }
}

export function markSeen(seen: Record<string, number>, room: string, seq: number): Record<string, number> {
  if ((seen[room] ?? 0) >= seq) return seen;
  const next = { ...seen, [room]: seq };
  globalThis.localStorage?.setItem(SEEN_KEY, JSON.stringify(next));
  return next;
}

export function unread(lastSeq: number, seen: number | undefined): number {
  // A room never opened here counts from nothing, capped so an old busy room is not "999".
  return Math.min(99, Math.max(0, lastSeq - (seen ?? 0)));
}

// An edited, deleted, pinned or unpinned message replaces the one with its seq (live frames
// carry no per-viewer reactions, so the ones already known are kept).
export function replaceMessage(log: RoomLog, m: ChatMessage): RoomLog {
  const i = log.messages.findIndex((x) => x.seq === m.seq);
  if (i < 0) return log;
  const old = log.messages[i];
  const next = log.messages.slice();
  next[i] = { ...old, ...m, reactions: m.deleted ? [] : m.reactions?.length ? m.reactions : old.reactions };
  return { ...log, messages: next };
}

// A reaction toggled by someone: the server gives the new count, so repeats are harmless.
export function applyReaction(log: RoomLog, messageId: string, emoji: string, count: number, mine: boolean | undefined): RoomLog {
  const i = log.messages.findIndex((x) => x.id === messageId);
  if (i < 0) return log;
  const m = log.messages[i];
  const list = (m.reactions ?? []).slice();
  const j = list.findIndex((r) => r.emoji === emoji);
  const was = j >= 0 ? list[j] : { emoji, count: 0, mine: false };
  const updated = { emoji, count, mine: mine ?? was.mine };
  if (j >= 0) list[j] = updated;
  else list.push(updated);
  const next = log.messages.slice();
  next[i] = { ...m, reactions: list.filter((r) => r.count > 0) };
  return { ...log, messages: next };
}

// `@name` tokens in a body, for highlighting and for autocomplete of the word being typed.
export function splitMentions(body: string): { text: string; mention: boolean }[] {
  const out: { text: string; mention: boolean }[] = [];
  const re = /(^|[^\w@])@([A-Za-z0-9_.-]{1,32})/g;
  let last = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const start = m.index + m[1].length;
    if (start > last) out.push({ text: body.slice(last, start), mention: false });
    out.push({ text: `@${m[2]}`, mention: true });
    last = start + 1 + m[2].length;
  }
  if (last < body.length) out.push({ text: body.slice(last), mention: false });
  return out;
}

export function mentionAtCaret(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const m = /(^|\s)@([A-Za-z0-9_.-]{0,32})$/.exec(before);
  return m ? { start: caret - m[2].length - 1, query: m[2].toLowerCase() } : null;
}
