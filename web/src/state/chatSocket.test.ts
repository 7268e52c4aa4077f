import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../testing/fakeWebSocket';
import { backoffMs, ChatSocket, type ConnectionState } from './chatSocket';

describe('ChatSocket', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.instances = [];
    vi.stubGlobal('WebSocket', FakeWebSocket);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  const flush = () => vi.advanceTimersByTimeAsync(0);

  it('connects with a ticket, joins, and resumes after a drop from the last seq seen', async () => {
    let tickets = 0;
    const socket = new ChatSocket(async () => `t${++tickets}`);
    const states: ConnectionState[] = [];
    socket.onState((s) => states.push(s));
    const frames: string[] = [];
    socket.on((f) => frames.push(f.type));
    socket.start();
    await flush();
    const first = FakeWebSocket.instances[0];
    expect(String(first.url)).toContain('/ws?ticket=t1');
    socket.join('room-1', 4);
    first.open();
    expect(first.sent).toEqual([{ type: 'join', room: 'room-1', after: 4 }]);
    first.receive({ type: 'message', message: { room: 'room-1', seq: 9, id: 'x', sender: 's', client_id: 'c', body: 'b', created_at: 0 } });
    expect(frames).toContain('message');

    first.drop();
    expect(socket.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(30_000);
    const second = FakeWebSocket.instances[1];
    expect(String(second.url)).toContain('ticket=t2');
    second.open();
    expect(second.sent).toEqual([{ type: 'join', room: 'room-1', after: 9 }]);
    expect(states).toContain('open');
  });

  it('queues sends while disconnected and flushes them on open', async () => {
    const socket = new ChatSocket(async () => 't');
    socket.start();
    await flush();
    socket.sendMessage('r', 'hello', 'c-1');
    const ws = FakeWebSocket.instances[0];
    ws.open();
    expect(ws.sent).toEqual([{ type: 'send', room: 'r', client_id: 'c-1', body: 'hello' }]);
  });

  it('stays closed when the server ends the session (4001)', async () => {
    const socket = new ChatSocket(async () => 't');
    const closed: unknown[] = [];
    socket.on((f) => f.type === 'closed' && closed.push(f));
    socket.start();
    await flush();
    FakeWebSocket.instances[0].open();
    FakeWebSocket.instances[0].drop(4001);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(socket.state).toBe('closed');
    expect(closed).toHaveLength(1);
  });

  it('asks for the rest when more was missed than one page', async () => {
    const socket = new ChatSocket(async () => 't');
    socket.start();
    await flush();
    const ws = FakeWebSocket.instances[0];
    socket.join('r', 1);
    ws.open();
    ws.sent = [];
    ws.receive({ type: 'joined', room: { id: 'r' }, missed: [{ room: 'r', seq: 2 }, { room: 'r', seq: 3 }], more: true });
    expect(ws.sent).toEqual([{ type: 'history', room: 'r', after: 3, limit: 100 }]);
  });

  it('backs off exponentially with jitter, capped at 30 s', () => {
    expect(backoffMs(0, () => 0)).toBe(250);
    expect(backoffMs(0, () => 1)).toBe(500);
    expect(backoffMs(3, () => 1)).toBe(4000);
    expect(backoffMs(20, () => 1)).toBe(30000);
  });
});
