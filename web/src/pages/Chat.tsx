import { useCallback, useEffect, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTitle } from '../state/useTitle';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { ChatMessage, Room, User } from '../api/types';
import { UserAvatar } from '../components/Art';
import { Icon } from '../components/Icon';
import { useAuth } from '../state/auth';
import * as Log from '../state/chatLog';
import { ChatSocket, newClientId, type ConnectionState, type ServerFrame } from '../state/chatSocket';

const PAGE = 50;

// Messages carry the sender's id; a name shows when the server sends one (newer servers add it).
export function senderLabel(m: ChatMessage & { sender_username?: string }, me: User | null): string {
  if (me && m.sender === me.id) return me.display_name || me.username;
  return m.sender_username ?? `user-${m.sender.slice(-6)}`;
}

function timeOf(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function Chat() {
  const { roomId } = useParams();
  const { user } = useAuth();
  const navigate = useNavigate();
  const [rooms, setRooms] = useState<Room[]>([]);
  const [roomsError, setRoomsError] = useState('');
  const [logs, setLogs] = useState<Record<string, Log.RoomLog>>({});
  const [conn, setConn] = useState<ConnectionState>('connecting');
  const [closedReason, setClosedReason] = useState('');
  const socketRef = useRef<ChatSocket | null>(null);
  const [creating, setCreating] = useState(false);
  const logsRef = useRef(logs);
  logsRef.current = logs;

  const updateLog = useCallback((room: string, f: (l: Log.RoomLog) => Log.RoomLog) => {
    setLogs((all) => ({ ...all, [room]: f(all[room] ?? Log.emptyLog) }));
  }, []);

  const loadRooms = useCallback(async () => {
    try {
      const r = await api<{ rooms: Room[] }>('/api/v1/chat/rooms');
      setRooms(r.rooms);
      setRoomsError('');
    } catch (e) {
      setRoomsError(errorMessage(e));
    }
  }, []);

  // The list (and its unread counts) refreshes every 20 s; the open room is live.
  useEffect(() => {
    void loadRooms();
    const id = window.setInterval(loadRooms, 20_000);
    return () => window.clearInterval(id);
  }, [loadRooms]);

  const [seen, setSeen] = useState(Log.loadSeen);
  const activeLast = roomId ? logs[roomId]?.lastSeq ?? 0 : 0;
  useEffect(() => {
    if (roomId && activeLast) setSeen((s) => Log.markSeen(s, roomId, activeLast));
  }, [roomId, activeLast]);

  // One socket while the chat is open.
  useEffect(() => {
    const socket = new ChatSocket();
    socketRef.current = socket;
    // Automated browsers (navigator.webdriver) get a handle for network-drop tests.
    if (navigator.webdriver) (window as unknown as { __vezaChat?: ChatSocket }).__vezaChat = socket;
    const offState = socket.onState(setConn);
    const off = socket.on((frame: ServerFrame) => {
      switch (frame.type) {
        case 'joined': {
          const f = frame as Extract<ServerFrame, { type: 'joined' }>;
          setRooms((rs) => rs.map((r) => (r.id === f.room.id ? { ...r, ...f.room } : r)));
          if (f.missed) updateLog(f.room.id, (l) => Log.mergeMessages(l, f.missed!));
          // Joined without history (first visit to a public room): fetch the latest page.
          else if (f.room.last_seq > 0 && !logsRef.current[f.room.id]?.messages.length) socket.history(f.room.id, f.room.last_seq + 1, PAGE);
          break;
        }
        case 'message':
        case 'ack': {
          const m = (frame as { message: ChatMessage }).message;
          updateLog(m.room, (l) => Log.mergeMessages(l, [m]));
          break;
        }
        case 'history': {
          const f = frame as Extract<ServerFrame, { type: 'history' }>;
          updateLog(f.room, (l) => {
            const older = f.messages.length && Log.oldestSeq(l) !== null && f.messages[0].seq < (Log.oldestSeq(l) ?? 0);
            return older ? Log.addOlder(l, f.messages, PAGE) : Log.mergeMessages(l, f.messages);
          });
          break;
        }
        case 'error': {
          const f = frame as Extract<ServerFrame, { type: 'error' }>;
          if (f.ref) {
            setLogs((all) => {
              const next = { ...all };
              for (const [room, l] of Object.entries(all)) {
                if (l.pending.some((p) => p.client_id === f.ref)) next[room] = Log.failPending(l, f.ref!, f.message);
              }
              return next;
            });
          }
          break;
        }
        case 'closed': {
          const code = (frame as { code?: number }).code;
          if (code === 4001) setClosedReason('Your session ended. Sign in again to keep chatting.');
          break;
        }
      }
    });
    socket.start();
    const online = () => socket.reconnectNow();
    window.addEventListener('online', online);
    return () => {
      window.removeEventListener('online', online);
      off();
      offState();
      socket.stop();
      socketRef.current = null;
    };
  }, [updateLog]);

  const active = rooms.find((r) => r.id === roomId) ?? null;
  useTitle(active ? `#${active.name}` : 'Chat');

  // Open the first room when none is chosen (wide screens); join the chosen one.
  useEffect(() => {
    if (!roomId && rooms.length && window.matchMedia('(min-width: 800px)').matches) navigate(`/chat/${rooms[0].id}`, { replace: true });
  }, [roomId, rooms, navigate]);

  useEffect(() => {
    const socket = socketRef.current;
    if (!socket || !roomId) return;
    let cancelled = false;
    (async () => {
      // History over REST first (works before the socket is up), then live from its last seq.
      try {
        const r = await api<{ messages: ChatMessage[] }>(`/api/v1/chat/rooms/${roomId}/messages?limit=${PAGE}`);
        if (cancelled) return;
        updateLog(roomId, (l) => {
          const merged = Log.mergeMessages(l, r.messages);
          return { ...merged, hasOlder: r.messages.length === PAGE && (merged.messages[0]?.seq ?? 1) > 1 };
        });
        const last = r.messages.reduce((m, x) => Math.max(m, x.seq), 0);
        socket.join(roomId, last);
      } catch {
        // Not a member of a public room yet: joining over the socket makes us one.
        if (!cancelled) socket.join(roomId);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [roomId, updateLog]);

  const send = (body: string) => {
    if (!roomId) return;
    const clientId = newClientId();
    updateLog(roomId, (l) => Log.addPending(l, { client_id: clientId, body, created_at: Date.now() }));
    socketRef.current?.sendMessage(roomId, body, clientId);
  };

  // Scrolling fires often: ask once per oldest message.
  const askedBefore = useRef(new Map<string, number>());
  const loadOlder = () => {
    if (!roomId) return;
    const l = logs[roomId];
    const oldest = l ? Log.oldestSeq(l) : null;
    if (!oldest || oldest <= 1 || askedBefore.current.get(roomId) === oldest) return;
    askedBefore.current.set(roomId, oldest);
    socketRef.current?.history(roomId, oldest, PAGE);
  };

  return (
    <div className={roomId ? 'chat has-room' : 'chat'}>
      <aside className="rooms" aria-label="Rooms">
        <div className="rooms-head">
          <h1>Chat</h1>
          <button className="icon-btn" onClick={() => setCreating((c) => !c)} aria-label="New room" aria-expanded={creating}>
            <Icon name="plus" />
          </button>
        </div>
        {creating && (
          <NewRoom
            onCreated={(r) => {
              setCreating(false);
              setRooms((rs) => [r, ...rs.filter((x) => x.id !== r.id)]);
              navigate(`/chat/${r.id}`);
            }}
          />
        )}
        <ConnectionBadge state={conn} />
        {roomsError && <p className="error-text">{roomsError}</p>}
        <ul>
          {rooms.map((r) => (
            <li key={r.id}>
              <Link to={`/chat/${r.id}`} className={r.id === roomId ? 'room-link active' : 'room-link'} aria-current={r.id === roomId ? 'page' : undefined}>
                <Icon name={r.kind === 'private' ? 'lock' : r.kind === 'direct' ? 'user' : 'hash'} size={16} />
                <span className="room-name">{r.name || 'Direct message'}</span>
                {r.id !== roomId && Log.unread(r.last_seq, seen[r.id]) > 0 && (
                  <span className="unread" aria-label={`${Log.unread(r.last_seq, seen[r.id])} unread`}>
                    {Log.unread(r.last_seq, seen[r.id])}
                  </span>
                )}
              </Link>
            </li>
          ))}
        </ul>
        {!rooms.length && !roomsError && <p className="muted small pad">No rooms yet. Create the first one.</p>}
      </aside>
      {closedReason && (
        <div className="banner error" role="alert">
          {closedReason}
        </div>
      )}
      {active ? (
        <RoomView key={active.id} room={active} log={logs[active.id] ?? Log.emptyLog} me={user} onSend={send} onOlder={loadOlder} disabled={!!closedReason} />
      ) : (
        <section className="room-empty">
          <Icon name="chat" size={40} />
          <h2>Pick a room</h2>
          <p className="muted">Or start a new one with the + button.</p>
        </section>
      )}
    </div>
  );
}

function ConnectionBadge({ state }: { state: ConnectionState }) {
  const label = { connecting: 'Connecting…', open: 'Live', reconnecting: 'Reconnecting…', closed: 'Offline' }[state];
  return (
    <p className={`conn ${state}`} role="status" data-testid="chat-connection">
      <span className="dot" aria-hidden="true" /> {label}
    </p>
  );
}

function NewRoom({ onCreated }: { onCreated(r: Room): void }) {
  const [name, setName] = useState('');
  const [topic, setTopic] = useState('');
  const [kind, setKind] = useState<'public' | 'private'>('public');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      onCreated(await api<Room>('/api/v1/chat/rooms', { method: 'POST', body: { name, topic, kind } }));
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <form className="new-room form" onSubmit={submit}>
      <label>
        Room name
        <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} autoFocus />
      </label>
      <label>
        Topic
        <input value={topic} onChange={(e) => setTopic(e.target.value)} maxLength={500} />
      </label>
      <label>
        Who can join
        <select value={kind} onChange={(e) => setKind(e.target.value as 'public' | 'private')}>
          <option value="public">Anyone</option>
          <option value="private">Invited members</option>
        </select>
      </label>
      {error && <p className="error-text" role="alert">{error}</p>}
      <button className="btn small">Create room</button>
    </form>
  );
}

function RoomView({
  room,
  log,
  me,
  onSend,
  onOlder,
  disabled,
}: {
  room: Room;
  log: Log.RoomLog;
  me: User | null;
  onSend(body: string): void;
  onOlder(): void;
  disabled: boolean;
}) {
  const [draft, setDraft] = useState('');
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const prevHeight = useRef(0);
  const prevFirst = useRef<number | null>(null);

  // Stay at the bottom for new messages; keep the reading position when older ones load above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = log.messages[0]?.seq ?? null;
    if (prevFirst.current !== null && first !== null && first < prevFirst.current) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (stick.current) {
      el.scrollTop = el.scrollHeight;
    }
    prevFirst.current = first;
    prevHeight.current = el.scrollHeight;
  }, [log.messages, log.pending]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 80 && log.hasOlder) onOlder();
  };

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const body = draft.trim();
    if (!body) return;
    stick.current = true;
    onSend(body);
    setDraft('');
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  };

  return (
    <section className="room" aria-label={`Room ${room.name}`}>
      <header className="room-head">
        <Link to="/chat" className="icon-btn back" aria-label="Back to rooms">
          ←
        </Link>
        <div>
          <h2>
            <Icon name={room.kind === 'private' ? 'lock' : 'hash'} size={18} /> {room.name || 'Direct message'}
          </h2>
          {room.topic && <p className="muted small">{room.topic}</p>}
        </div>
        {room.slow_mode_seconds > 0 && <span className="badge">Slow mode {room.slow_mode_seconds}s</span>}
      </header>
      <div className="messages" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" aria-label="Messages" data-testid="messages">
        {log.hasOlder && log.messages.length > 0 && (
          <button className="link-btn older" onClick={onOlder}>
            Load older messages
          </button>
        )}
        {!log.messages.length && !log.pending.length && (
          <div className="room-welcome">
            <h3>Welcome to #{room.name}</h3>
            <p className="muted">This is the start of the room. Say hi.</p>
          </div>
        )}
        {log.messages.map((m, i) => {
          const first = Log.startsGroup(log.messages, i);
          const name = senderLabel(m, me);
          return (
            <div key={m.seq} className={first ? 'msg first' : 'msg'} data-testid="message" data-seq={m.seq}>
              {first ? <UserAvatar name={name} size={36} /> : <span className="msg-gutter">{timeOf(m.created_at)}</span>}
              <div className="msg-main">
                {first && (
                  <div className="msg-head">
                    <strong>{name}</strong> <time className="muted small">{timeOf(m.created_at)}</time>
                  </div>
                )}
                <p className="msg-body">{m.body}</p>
              </div>
            </div>
          );
        })}
        {log.pending.map((p) => (
          <div key={p.client_id} className={p.failed ? 'msg pending failed' : 'msg pending'}>
            <span className="msg-gutter">{p.failed ? '!' : '…'}</span>
            <div className="msg-main">
              <p className="msg-body">{p.body}</p>
              {p.failed && <p className="error-text small">Not sent: {p.failed}</p>}
            </div>
          </div>
        ))}
      </div>
      <form className="composer" onSubmit={submit}>
        <textarea
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          placeholder={`Message #${room.name}`}
          aria-label={`Message #${room.name}`}
          rows={1}
          maxLength={4000}
          disabled={disabled}
          data-testid="composer"
        />
        <button className="icon-btn send" aria-label="Send" disabled={disabled || !draft.trim()}>
          <Icon name="send" />
        </button>
      </form>
    </section>
  );
}
