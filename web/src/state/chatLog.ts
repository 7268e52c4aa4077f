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
