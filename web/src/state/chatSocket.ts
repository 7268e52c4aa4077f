// The chat WebSocket (docs/websocket.md): ticket auth, one socket for all rooms, reconnect with
// backoff and resume by `join` with `after` = the last seq seen per room. Frames are handed to
// listeners by type, so new frame types (edits, reactions, typing, presence) plug in without
// touching the connection logic.
import { api } from '../api/client';
import type { ChatMessage, Room } from '../api/types';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export type ServerFrame =
  | { type: 'hello'; protocol: number; user: string }
  | { type: 'joined'; room: Room; missed?: ChatMessage[]; more?: boolean }
  | { type: 'left'; room: string }
  | { type: 'ack'; client_id: string; message: ChatMessage }
  | { type: 'message'; message: ChatMessage }
  | { type: 'history'; room: string; messages: ChatMessage[] }
  | { type: 'error'; code: string; message: string; ref?: string }
  | { type: 'pong' }
  | { type: string; [key: string]: unknown };

type Listener = (frame: ServerFrame) => void;

export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(30_000, 500 * 2 ** attempt);
  return Math.round(base / 2 + (random() * base) / 2);
}

let clientCounter = 0;
export function newClientId(): string {
  clientCounter = (clientCounter + 1) % 1_000_000;
  const rand = Math.random().toString(36).slice(2, 10);
  return `w-${Date.now().toString(36)}-${rand}-${clientCounter}`;
}

export class ChatSocket {
  private ws: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(s: ConnectionState) => void>();
  private rooms = new Map<string, number>(); // room id → last seq seen
  private attempt = 0;
  private timer: number | undefined;
  private stopped = false;
  private outbox: string[] = [];
  state: ConnectionState = 'closed';

  constructor(private readonly ticket: () => Promise<string> = ChatSocket.fetchTicket) {}

  static async fetchTicket(): Promise<string> {
    const r = await api<{ ticket: string }>('/api/v1/chat/ticket', { method: 'POST' });
    return r.ticket;
  }

  start(): void {
    this.stopped = false;
    if (!this.ws) void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
    this.ws?.close(1000, 'bye');
    this.ws = null;
    this.setState('closed');
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onState(listener: (s: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  join(room: string, lastSeq?: number): void {
    const known = this.rooms.get(room);
    const after = Math.max(known ?? 0, lastSeq ?? 0);
    this.rooms.set(room, after);
    this.send({ type: 'join', room, ...(after > 0 ? { after } : {}) });
  }

  leave(room: string): void {
    this.rooms.delete(room);
    this.send({ type: 'leave', room });
  }

  sendMessage(room: string, body: string, clientId = newClientId(), replyTo?: string | null): string {
    this.send({ type: 'send', room, client_id: clientId, body, ...(replyTo ? { reply_to: replyTo } : {}) });
    return clientId;
  }

  joinedRooms(): string[] {
    return [...this.rooms.keys()];
  }

  // Typing, presence and reactions are worth nothing later: they are not queued while offline.
  sendLive(frame: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  history(room: string, before: number, limit = 50): void {
    this.send({ type: 'history', room, before, limit });
  }

  // Frames wait in the outbox while disconnected; sends are idempotent by client_id.
  send(frame: Record<string, unknown>): void {
    const text = JSON.stringify(frame);
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else if (frame.type !== 'join') this.outbox.push(text);
    // joins are replayed from `rooms` on every (re)connect
  }

  private setState(s: ConnectionState): void {
    this.state = s;
    this.stateListeners.forEach((l) => l(s));
  }

  private async connect(): Promise<void> {
    this.setState(this.attempt ? 'reconnecting' : 'connecting');
    let ticket: string;
    try {
      ticket = await this.ticket();
    } catch {
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) return;
    const url = new URL('/ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('ticket', ticket);
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      this.setState('open');
      for (const [room, after] of this.rooms) ws.send(JSON.stringify({ type: 'join', room, ...(after > 0 ? { after } : {}) }));
      const queued = this.outbox.splice(0);
      for (const f of queued) ws.send(f);
    };
    ws.onmessage = (ev) => {
      let frame: ServerFrame;
      try {
        frame = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      this.track(frame);
      this.listeners.forEach((l) => l(frame));
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      // 4001: the session ended (sign-out, revocation, suspension); 4003: banned from all
      // chat (docs/moderation.md). Coming back would only be refused again.
      if (this.stopped || ev.code === 4001 || ev.code === 4003) {
        this.setState('closed');
        this.listeners.forEach((l) => l({ type: 'closed', code: ev.code, reason: ev.reason }));
        return;
      }
      this.scheduleReconnect();
    };
  }

  private track(frame: ServerFrame): void {
    const bump = (room: string, seq: number) => {
      if (this.rooms.has(room) && seq > (this.rooms.get(room) ?? 0)) this.rooms.set(room, seq);
    };
    if (frame.type === 'message' || frame.type === 'ack') {
      const m = (frame as { message: ChatMessage }).message;
      bump(m.room, m.seq);
    } else if (frame.type === 'joined') {
      const f = frame as { room: Room; missed?: ChatMessage[]; more?: boolean };
      for (const m of f.missed ?? []) bump(m.room, m.seq);
      // More was missed than one page: keep asking from the last seq received.
      if (f.more && f.missed?.length) {
        this.send({ type: 'history', room: f.room.id, after: f.missed[f.missed.length - 1].seq, limit: 100 });
      }
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    this.setState('reconnecting');
    const delay = backoffMs(this.attempt++);
    this.timer = window.setTimeout(() => void this.connect(), delay);
  }

  // What a dropped network does to the socket; the browser suite uses it (offline emulation
  // does not close sockets that are already open).
  simulateDrop(): void {
    const ws = this.ws;
    if (!ws) return;
    this.ws = null;
    ws.onclose = null;
    ws.close(4000, 'dropped');
    this.scheduleReconnect();
  }

  // For the browser's online event: try now instead of waiting out the backoff.
  reconnectNow(): void {
    if (this.stopped || this.ws) return;
    window.clearTimeout(this.timer);
    void this.connect();
  }
}
