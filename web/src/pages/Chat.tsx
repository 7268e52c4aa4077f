import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useTitle } from '../state/useTitle';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { ChatMessage, Room, RoomMember, Track, TrackEmbed, User } from '../api/types';
import { hashHue, UserAvatar } from '../components/Art';
import { Icon } from '../components/Icon';
import { useAuth } from '../state/auth';
import * as Log from '../state/chatLog';
import { newClientId, type ConnectionState, type ServerFrame } from '../state/chatSocket';
import { useLive } from '../state/live';
import { rememberUsers } from '../state/names';
import { moderationAvailable } from './AdminModeration';
import { usePlayer } from '../state/player';

const PAGE = 50;
const QUICK_REACTIONS = ['👍', '🔥', '❤️', '😂', '🎉', '👀'];
const TYPING_SHOWN_MS = 5000;

type Names = Record<string, string>; // user id → username
type Presence = Record<string, string>; // user id → online | away | offline

// Messages carry the sender's id; names come from the room's member list (or the server, when
// it sends one).
export function senderLabel(m: ChatMessage & { sender_username?: string }, me: User | null, names: Names = {}): string {
  if (me && m.sender === me.id) return me.display_name || me.username;
  return m.sender_username ?? names[m.sender] ?? `user-${m.sender.slice(-6)}`;
}

// Who is typing in a room, as a sentence ("alice is typing…"), leaving out oneself.
export function typingLine(typers: Record<string, number> | undefined, now: number, names: Names, me?: string): string {
  const who = Object.entries(typers ?? {})
    .filter(([id, until]) => until > now && id !== me)
    .map(([id]) => names[id] ?? 'Someone');
  if (!who.length) return '';
  if (who.length === 1) return `${who[0]} is typing…`;
  if (who.length === 2) return `${who[0]} and ${who[1]} are typing…`;
  return 'Several people are typing…';
}

function timeOf(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function isDm(r: Room): boolean {
  return r.kind === 'dm' || r.kind === 'direct';
}

export function Chat() {
  const { roomId } = useParams();
  const { user } = useAuth();
  const { socket } = useLive();
  const navigate = useNavigate();
  const [rooms, setRooms] = useState<Room[]>([]);
  const [roomsError, setRoomsError] = useState('');
  const [logs, setLogs] = useState<Record<string, Log.RoomLog>>({});
  const [conn, setConn] = useState<ConnectionState>('connecting');
  const [closedReason, setClosedReason] = useState('');
  const [creating, setCreating] = useState(false);
  const [members, setMembers] = useState<Record<string, RoomMember[]>>({});
  const [names, setNames] = useState<Names>({});
  const [presence, setPresence] = useState<Presence>({});
  const [typing, setTyping] = useState<Record<string, Record<string, number>>>({});
  const [dmNames, setDmNames] = useState<Record<string, string>>({});
  const [now, setNow] = useState(Date.now());
  const [removed, setRemoved] = useState<Record<string, string>>({});
  const logsRef = useRef(logs);
  logsRef.current = logs;
  const roomIdRef = useRef(roomId);
  roomIdRef.current = roomId;

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

  // Typing lines fade on their own.
  useEffect(() => {
    const id = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(id);
  }, []);

  // Direct rooms are named after the other person.
  useEffect(() => {
    for (const r of rooms) {
      if (!isDm(r) || r.name || dmNames[r.id] !== undefined) continue;
      setDmNames((d) => ({ ...d, [r.id]: '' }));
      api<{ members: RoomMember[] }>(`/api/v1/chat/rooms/${r.id}/members`)
        .then((m) => {
          const other = m.members.find((x) => x.user_id !== user?.id);
          setDmNames((d) => ({ ...d, [r.id]: other?.username ?? 'Direct message' }));
          setNames((n) => ({ ...n, ...Object.fromEntries(m.members.map((x) => [x.user_id, x.username])) }));
        })
        .catch(() => undefined);
    }
  }, [rooms, dmNames, user?.id]);

  const [seen, setSeen] = useState(Log.loadSeen);
  const activeLast = roomId ? logs[roomId]?.lastSeq ?? 0 : 0;
  useEffect(() => {
    if (!roomId || !activeLast) return;
    setSeen((s) => Log.markSeen(s, roomId, activeLast));
    // The server's read marker, so other devices and the room list agree.
    socket?.sendLive({ type: 'read', room: roomId, seq: activeLast });
    setRooms((rs) => rs.map((r) => (r.id === roomId ? { ...r, unread_count: 0, last_seq: Math.max(r.last_seq, activeLast) } : r)));
  }, [roomId, activeLast, socket]);

  const loadMembers = useCallback(
    async (room: string) => {
      try {
        const m = await api<{ members: RoomMember[] }>(`/api/v1/chat/rooms/${room}/members`);
        rememberUsers(m.members);
        setMembers((all) => ({ ...all, [room]: m.members }));
        setNames((n) => ({ ...n, ...Object.fromEntries(m.members.map((x) => [x.user_id, x.username])) }));
        socket?.sendLive({ type: 'presence', users: m.members.slice(0, 100).map((x) => x.user_id) });
      } catch {
        /* not readable (yet) */
      }
    },
    [socket],
  );

  // Frames of the shared socket, while the chat is open.
  useEffect(() => {
    if (!socket) return;
    const offState = socket.onState(setConn);
    const off = socket.on((frame: ServerFrame) => {
      switch (frame.type) {
        case 'joined': {
          const f = frame as Extract<ServerFrame, { type: 'joined' }>;
          setRooms((rs) => (rs.some((r) => r.id === f.room.id) ? rs.map((r) => (r.id === f.room.id ? { ...r, ...f.room } : r)) : [f.room, ...rs]));
          if (f.missed) updateLog(f.room.id, (l) => Log.mergeMessages(l, f.missed!));
          // Joined without history (first visit to a public room): fetch the latest page.
          else if (f.room.last_seq > 0 && !logsRef.current[f.room.id]?.messages.length) socket.history(f.room.id, f.room.last_seq + 1, PAGE);
          void loadMembers(f.room.id);
          break;
        }
        case 'message':
        case 'ack': {
          const m = (frame as { message: ChatMessage }).message;
          updateLog(m.room, (l) => Log.mergeMessages(l, [m]));
          setTyping((t) => (t[m.room]?.[m.sender] ? { ...t, [m.room]: { ...t[m.room], [m.sender]: 0 } } : t));
          if (m.room !== roomIdRef.current) setRooms((rs) => rs.map((r) => (r.id === m.room ? { ...r, last_seq: Math.max(r.last_seq, m.seq), unread_count: (r.unread_count ?? 0) + (m.sender === user?.id ? 0 : 1) } : r)));
          break;
        }
        case 'edited':
        case 'deleted':
        case 'pinned':
        case 'unpinned':
        case 'message_edited':
        case 'message_deleted': {
          const m = (frame as unknown as { message: ChatMessage }).message;
          updateLog(m.room, (l) => Log.replaceMessage(l, m));
          break;
        }
        case 'reacted': {
          const f = frame as unknown as { message_id: string; emoji: string; added: boolean; count: number };
          for (const [room, l] of Object.entries(logsRef.current)) {
            if (l.messages.some((m) => m.id === f.message_id)) updateLog(room, (x) => Log.applyReaction(x, f.message_id, f.emoji, f.count, f.added));
          }
          break;
        }
        case 'reaction': {
          const f = frame as unknown as { room: string; message_id: string; emoji: string; user: string; added: boolean; count: number };
          updateLog(f.room, (l) => Log.applyReaction(l, f.message_id, f.emoji, f.count, f.user === user?.id ? f.added : undefined));
          break;
        }
        case 'typing': {
          const f = frame as unknown as { room: string; user: string };
          if (f.user === user?.id) break;
          setTyping((t) => ({ ...t, [f.room]: { ...t[f.room], [f.user]: Date.now() + TYPING_SHOWN_MS } }));
          setNow(Date.now());
          break;
        }
        case 'presence': {
          const f = frame as unknown as { user?: string; status?: string; users?: Presence };
          if (f.users) setPresence((p) => ({ ...p, ...f.users }));
          else if (f.user && f.status) setPresence((p) => ({ ...p, [f.user!]: f.status! }));
          break;
        }
        case 'room_updated': {
          const f = frame as unknown as { room: Partial<Room> & { id: string } };
          setRooms((rs) => rs.map((r) => (r.id === f.room.id ? { ...r, ...f.room } : r)));
          break;
        }
        case 'room_deleted': {
          const f = frame as unknown as { room: string };
          setRooms((rs) => rs.filter((r) => r.id !== f.room));
          if (roomIdRef.current === f.room) navigate('/chat', { replace: true });
          break;
        }
        case 'history': {
          const f = frame as Extract<ServerFrame, { type: 'history' }>;
          if ((f as unknown as { thread?: string }).thread) break;
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
          if (code === 4003) setClosedReason('You have been banned from chat by a moderator.');
          break;
        }
        case 'banned': {
          setClosedReason('You have been banned from chat by a moderator.');
          break;
        }
        case 'removed': {
          const f = frame as unknown as { room: string; reason?: string };
          setRemoved((r) => ({ ...r, [f.room]: f.reason === 'ban' ? 'You were banned from this room by a moderator.' : 'You were removed from this room by a moderator.' }));
          break;
        }
      }
    });
    return () => {
      off();
      offState();
      // Leaving the chat: stop receiving its rooms (the socket stays up for notifications).
      for (const r of socket.joinedRooms()) socket.leave(r);
    };
  }, [socket, updateLog, loadMembers, user?.id, navigate]);

  const active = rooms.find((r) => r.id === roomId) ?? null;
  const roomLabel = (r: Room) => r.name || dmNames[r.id] || 'Direct message';
  useTitle(active ? (isDm(active) ? roomLabel(active) : `#${active.name}`) : 'Chat');

  // Open the first room when none is chosen (wide screens); join the chosen one.
  useEffect(() => {
    if (!roomId && rooms.length && window.matchMedia('(min-width: 800px)').matches) navigate(`/chat/${rooms[0].id}`, { replace: true });
  }, [roomId, rooms, navigate]);

  useEffect(() => {
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
  }, [roomId, socket, updateLog]);

  const send = (body: string, replyTo: string | null) => {
    if (!roomId || !socket) return;
    const clientId = newClientId();
    updateLog(roomId, (l) => Log.addPending(l, { client_id: clientId, body, created_at: Date.now() }));
    socket.sendMessage(roomId, body, clientId, replyTo);
  };

  // Scrolling fires often: ask once per oldest message.
  const askedBefore = useRef(new Map<string, number>());
  const loadOlder = () => {
    if (!roomId) return;
    const l = logs[roomId];
    const oldest = l ? Log.oldestSeq(l) : null;
    if (!oldest || oldest <= 1 || askedBefore.current.get(roomId) === oldest) return;
    askedBefore.current.set(roomId, oldest);
    socket?.history(roomId, oldest, PAGE);
  };

  const unreadOf = (r: Room) => (r.unread_count !== undefined ? Math.min(99, r.unread_count) : Log.unread(r.last_seq, seen[r.id]));
  const dms = rooms.filter(isDm);
  const channels = rooms.filter((r) => !isDm(r));
  const roomItem = (r: Room) => {
    const n = r.id === roomId ? 0 : unreadOf(r);
    return (
      <li key={r.id}>
        <Link to={`/chat/${r.id}`} className={r.id === roomId ? 'room-link active' : n > 0 ? 'room-link has-unread' : 'room-link'} aria-current={r.id === roomId ? 'page' : undefined}>
          {isDm(r) ? <UserAvatar name={roomLabel(r)} size={20} /> : <Icon name={r.kind === 'private' ? 'lock' : 'hash'} size={16} />}
          <span className="room-name">{roomLabel(r)}</span>
          {n > 0 && (
            <span className="unread" aria-label={`${n} unread`} data-testid="room-unread">
              {n}
            </span>
          )}
        </Link>
      </li>
    );
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
        <ConnectionBadge state={socket ? conn : 'connecting'} />
        {roomsError && <p className="error-text">{roomsError}</p>}
        <p className="rooms-label">Rooms</p>
        <ul>{channels.map(roomItem)}</ul>
        {!channels.length && !roomsError && <p className="muted small pad">No rooms yet. Create the first one.</p>}
        {dms.length > 0 && (
          <>
            <p className="rooms-label">Direct messages</p>
            <ul>{dms.map(roomItem)}</ul>
          </>
        )}
      </aside>
      {(closedReason || (roomId && removed[roomId])) && (
        <div className="banner error" role="alert" data-testid="chat-banner">
          {closedReason || removed[roomId!]}
        </div>
      )}
      {active ? (
        <RoomView
          key={active.id}
          room={active}
          label={roomLabel(active)}
          log={logs[active.id] ?? Log.emptyLog}
          me={user}
          names={names}
          members={members[active.id] ?? []}
          presence={presence}
          typingText={typingLine(typing[active.id], now, names, user?.id)}
          onSend={send}
          onOlder={loadOlder}
          onFrame={(f) => socket?.send(f)}
          onLive={(f) => socket?.sendLive(f)}
          onReact={(m, emoji) => {
            const mine = m.reactions?.find((r) => r.emoji === emoji);
            updateLog(m.room, (l) => Log.applyReaction(l, m.id, emoji, (mine?.count ?? 0) + (mine?.mine ? -1 : 1), !mine?.mine));
            socket?.send({ type: 'react', message: m.id, emoji });
          }}
          disabled={!!closedReason || !!removed[active.id]}
        />
      ) : (
        <section className="room-empty">
          <Icon name="chat" size={40} />
          <h2>Pick a room</h2>
          <p className="muted">Or start a new one with the + button, or message someone from their profile.</p>
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

function PresenceDot({ status }: { status?: string }) {
  const s = status === 'online' || status === 'away' ? status : 'offline';
  return <span className={`presence ${s}`} title={s} aria-label={s} role="img" data-testid="presence" data-status={s} />;
}

function Body({ text, me }: { text: string; me: User | null }) {
  return (
    <>
      {Log.splitMentions(text).map((part, i) =>
        part.mention ? (
          <span key={i} className={me && part.text.slice(1).toLowerCase() === me.username.toLowerCase() ? 'mention mention-me' : 'mention'}>
            {part.text}
          </span>
        ) : (
          <span key={i}>{part.text}</span>
        ),
      )}
    </>
  );
}

function EmbedCard({ embed }: { embed: TrackEmbed }) {
  const player = usePlayer();
  const [error, setError] = useState('');
  const current = player.track?.id === embed.track_id;
  const hue = hashHue(embed.track_id);
  return (
    <div className="embed" data-testid="track-embed">
      <button
        className="embed-play"
        style={{ background: `linear-gradient(135deg, hsl(${hue} 80% 58%), hsl(${(hue + 60) % 360} 70% 38%))` }}
        aria-label={current && player.playing ? `Pause ${embed.title}` : `Play ${embed.title}`}
        onClick={async () => {
          if (current) return player.toggle();
          try {
            player.play(await api<Track>(`/api/v1/tracks/${embed.track_id}`));
          } catch (e) {
            setError(errorMessage(e));
          }
        }}
      >
        <Icon name={current && player.playing ? 'pause' : 'play'} size={20} />
      </button>
      <div className="embed-meta">
        <Link to={`/tracks/${embed.track_id}`}>{embed.title}</Link>
        <span className="muted small">
          {embed.artist || embed.owner_username} · <Link to={`/u/${embed.owner_username}`}>@{embed.owner_username}</Link>
        </span>
        {error && <span className="error-text small">{error}</span>}
      </div>
    </div>
  );
}

function RoomView({
  room,
  label,
  log,
  me,
  names,
  members,
  presence,
  typingText,
  onSend,
  onOlder,
  onFrame,
  onLive,
  onReact,
  disabled,
}: {
  room: Room;
  label: string;
  log: Log.RoomLog;
  me: User | null;
  names: Names;
  members: RoomMember[];
  presence: Presence;
  typingText: string;
  onSend(body: string, replyTo: string | null): void;
  onOlder(): void;
  onFrame(f: Record<string, unknown>): void;
  onLive(f: Record<string, unknown>): void;
  onReact(m: ChatMessage, emoji: string): void;
  disabled: boolean;
}) {
  const [draft, setDraft] = useState('');
  const [caret, setCaret] = useState(0);
  const [pick, setPick] = useState(0);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [editText, setEditText] = useState('');
  const [picker, setPicker] = useState<string | null>(null);
  const [canReport, setCanReport] = useState(false);
  const [notice, setNotice] = useState('');
  useEffect(() => {
    void moderationAvailable().then(setCanReport);
  }, []);
  const report = async (m: ChatMessage) => {
    const reason = prompt('Why should a moderator look at this message?', '');
    if (!reason?.trim()) return;
    try {
      await api('/api/v1/moderation/reports', { method: 'POST', body: { message_id: m.id, reason: reason.trim() } });
      setNotice('Thanks. A moderator will look at it.');
    } catch (e) {
      setNotice(`Not reported: ${errorMessage(e)}`);
    }
    window.setTimeout(() => setNotice(''), 4000);
  };
  const scroller = useRef<HTMLDivElement>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const stick = useRef(true);
  const prevHeight = useRef(0);
  const prevFirst = useRef<number | null>(null);
  const lastTyping = useRef(0);
  const myRole = members.find((m) => m.user_id === me?.id)?.role ?? room.my_role;
  const canModerate = myRole === 'owner' || myRole === 'moderator';
  const dm = isDm(room);
  const byId = useMemo(() => new Map(log.messages.map((m) => [m.id, m])), [log.messages]);

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

  // Mentions: the `@word` being typed, completed from the room's members.
  const mention = Log.mentionAtCaret(draft, caret);
  const candidates = mention
    ? members.filter((m) => m.user_id !== me?.id && m.username.toLowerCase().startsWith(mention.query)).slice(0, 6)
    : [];
  const complete = (username: string) => {
    if (!mention) return;
    const next = `${draft.slice(0, mention.start)}@${username} ${draft.slice(caret)}`;
    const pos = mention.start + username.length + 2;
    setDraft(next);
    setCaret(pos);
    setPick(0);
    requestAnimationFrame(() => {
      input.current?.focus();
      input.current?.setSelectionRange(pos, pos);
    });
  };

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const body = draft.trim();
    if (!body) return;
    stick.current = true;
    onSend(body, replyTo?.id ?? null);
    setDraft('');
    setReplyTo(null);
  };

  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (candidates.length) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setPick((p) => (p + (e.key === 'ArrowDown' ? 1 : candidates.length - 1)) % candidates.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        complete(candidates[Math.min(pick, candidates.length - 1)].username);
        return;
      }
    }
    if (e.key === 'Escape' && replyTo) setReplyTo(null);
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    }
  };

  const onDraft = (value: string, pos: number) => {
    setDraft(value);
    setCaret(pos);
    setPick(0);
    // At most one typing frame every 3 s (the server folds the rest anyway).
    if (value && Date.now() - lastTyping.current > 3000) {
      lastTyping.current = Date.now();
      onLive({ type: 'typing', room: room.id });
    }
  };

  const saveEdit = (m: ChatMessage) => {
    const body = editText.trim();
    if (body && body !== m.body) onFrame({ type: 'edit', message: m.id, body });
    setEditing(null);
  };

  const online = members.filter((m) => presence[m.user_id] === 'online' || presence[m.user_id] === 'away');

  return (
    <div className="room-area">
      <section className="room" aria-label={dm ? `Conversation with ${label}` : `Room ${room.name}`}>
        <header className="room-head">
          <Link to="/chat" className="icon-btn back" aria-label="Back to rooms">
            ←
          </Link>
          <div>
            <h2>
              {dm ? <UserAvatar name={label} size={24} /> : <Icon name={room.kind === 'private' ? 'lock' : 'hash'} size={18} />} {label}
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
              <h3>{dm ? `This is the start of your conversation with ${label}` : `Welcome to #${room.name}`}</h3>
              <p className="muted">{dm ? 'Messages here are only between the two of you.' : 'This is the start of the room. Say hi.'}</p>
            </div>
          )}
          {log.messages.map((m, i) => {
            const parent = m.reply_to ? byId.get(m.reply_to) : undefined;
            const first = Log.startsGroup(log.messages, i) || !!m.reply_to;
            const name = senderLabel(m, me, names);
            const mine = m.sender === me?.id;
            const mentionsMe = !!me && !mine && Log.splitMentions(m.body).some((p) => p.mention && p.text.slice(1).toLowerCase() === me.username.toLowerCase());
            return (
              <div key={m.seq} className={`msg${first ? ' first' : ''}${mentionsMe ? ' mentioned' : ''}${m.deleted ? ' deleted' : ''}`} data-testid="message" data-seq={m.seq}>
                {m.reply_to && (
                  <div className="msg-reply-to">
                    <Icon name="reply" size={12} />
                    {parent ? (
                      <>
                        <strong>{senderLabel(parent, me, names)}</strong> <span className="muted">{parent.deleted ? 'deleted message' : parent.body.slice(0, 80)}</span>
                      </>
                    ) : (
                      <span className="muted">an earlier message</span>
                    )}
                  </div>
                )}
                {first ? (
                  <span className="msg-avatar">
                    <UserAvatar name={name} size={36} />
                    <PresenceDot status={mine ? 'online' : presence[m.sender]} />
                  </span>
                ) : (
                  <span className="msg-gutter">{timeOf(m.created_at)}</span>
                )}
                <div className="msg-main">
                  {first && (
                    <div className="msg-head">
                      <strong>{name}</strong> <time className="muted small">{timeOf(m.created_at)}</time>
                      {m.pinned && <span className="badge">Pinned</span>}
                    </div>
                  )}
                  {editing === m.id ? (
                    <form
                      className="msg-edit"
                      onSubmit={(e) => {
                        e.preventDefault();
                        saveEdit(m);
                      }}
                    >
                      <textarea
                        value={editText}
                        onChange={(e) => setEditText(e.target.value)}
                        aria-label="Edit message"
                        autoFocus
                        rows={2}
                        maxLength={4000}
                        onKeyDown={(e) => {
                          if (e.key === 'Enter' && !e.shiftKey) {
                            e.preventDefault();
                            saveEdit(m);
                          } else if (e.key === 'Escape') setEditing(null);
                        }}
                        data-testid="edit-input"
                      />
                      <span className="muted small">Enter to save · Esc to cancel</span>
                    </form>
                  ) : m.deleted ? (
                    <p className="msg-body muted">
                      <em>This message was deleted.</em>
                    </p>
                  ) : (
                    <p className="msg-body">
                      <Body text={m.body} me={me} />
                      {m.edited_at && <span className="muted small edited"> (edited)</span>}
                    </p>
                  )}
                  {!m.deleted && m.embeds?.map((e) => <EmbedCard key={e.track_id} embed={e} />)}
                  {!m.deleted && !!m.reactions?.length && (
                    <div className="reactions" data-testid="reactions">
                      {m.reactions.map((r) => (
                        <button key={r.emoji} className={r.mine ? 'reaction mine' : 'reaction'} aria-pressed={r.mine} onClick={() => onReact(m, r.emoji)} aria-label={`${r.emoji} ${r.count}`} data-testid="reaction">
                          {r.emoji} <span>{r.count}</span>
                        </button>
                      ))}
                    </div>
                  )}
                </div>
                {!m.deleted && !disabled && (
                  <div className="msg-tools" role="toolbar" aria-label="Message actions">
                    <button className="icon-btn" aria-label="React" onClick={() => setPicker(picker === m.id ? null : m.id)} aria-expanded={picker === m.id}>
                      <Icon name="smile" size={16} />
                    </button>
                    <button
                      className="icon-btn"
                      aria-label="Reply"
                      onClick={() => {
                        setReplyTo(m);
                        input.current?.focus();
                      }}
                    >
                      <Icon name="reply" size={16} />
                    </button>
                    {mine && (
                      <button
                        className="icon-btn"
                        aria-label="Edit message"
                        onClick={() => {
                          setEditing(m.id);
                          setEditText(m.body);
                        }}
                      >
                        <Icon name="edit" size={16} />
                      </button>
                    )}
                    {!mine && canReport && (
                      <button className="icon-btn" aria-label="Report message" onClick={() => void report(m)}>
                        <Icon name="alert" size={16} />
                      </button>
                    )}
                    {(mine || canModerate) && (
                      <button className="icon-btn danger" aria-label="Delete message" onClick={() => confirm('Delete this message?') && onFrame({ type: 'delete', message: m.id })}>
                        <Icon name="trash" size={16} />
                      </button>
                    )}
                    {picker === m.id && (
                      <div className="emoji-picker" role="group" aria-label="Pick a reaction">
                        {QUICK_REACTIONS.map((e) => (
                          <button
                            key={e}
                            aria-label={`React with ${e}`}
                            onClick={() => {
                              onReact(m, e);
                              setPicker(null);
                            }}
                          >
                            {e}
                          </button>
                        ))}
                      </div>
                    )}
                  </div>
                )}
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
        <div className="composer-area">
          {notice && (
            <p className="notice" role="status">
              {notice}
            </p>
          )}
          <p className="typing" aria-live="polite" data-testid="typing">
            {typingText && (
              <>
                <span className="typing-dots" aria-hidden="true">
                  <span />
                  <span />
                  <span />
                </span>{' '}
                {typingText}
              </>
            )}
          </p>
          {replyTo && (
            <div className="replying" data-testid="replying">
              <Icon name="reply" size={14} /> Replying to <strong>{senderLabel(replyTo, me, names)}</strong>
              <span className="muted grow">{replyTo.body.slice(0, 80)}</span>
              <button className="icon-btn" aria-label="Cancel reply" onClick={() => setReplyTo(null)}>
                <Icon name="x" size={14} />
              </button>
            </div>
          )}
          {candidates.length > 0 && (
            <ul className="mention-list" role="listbox" aria-label="Mention someone" data-testid="mention-list">
              {candidates.map((c, i) => (
                <li key={c.user_id} role="option" aria-selected={i === pick}>
                  <button type="button" onMouseDown={(e) => e.preventDefault()} onClick={() => complete(c.username)}>
                    <UserAvatar name={c.username} size={22} /> <strong>{c.username}</strong>
                    <PresenceDot status={presence[c.user_id]} />
                  </button>
                </li>
              ))}
            </ul>
          )}
          <form className="composer" onSubmit={submit}>
            <textarea
              ref={input}
              value={draft}
              onChange={(e) => onDraft(e.target.value, e.target.selectionStart ?? e.target.value.length)}
              onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
              onKeyDown={onKey}
              placeholder={dm ? `Message ${label}` : `Message #${room.name}`}
              aria-label={dm ? `Message ${label}` : `Message #${room.name}`}
              rows={1}
              maxLength={4000}
              disabled={disabled}
              data-testid="composer"
            />
            <button className="icon-btn send" aria-label="Send" disabled={disabled || !draft.trim()}>
              <Icon name="send" />
            </button>
          </form>
        </div>
      </section>
      {!dm && (
        <aside className="members" aria-label="Members">
          <h3>
            Members <span className="muted">{members.length}</span>
          </h3>
          {online.length > 0 && <p className="rooms-label">Online — {online.length}</p>}
          <ul>
            {[...members]
              .sort((a, b) => Number(presence[b.user_id] === 'online') - Number(presence[a.user_id] === 'online'))
              .map((m) => (
                <li key={m.user_id} className={presence[m.user_id] === 'online' || m.user_id === me?.id ? 'member on' : 'member'} data-testid="member">
                  <span className="msg-avatar">
                    <UserAvatar name={m.username} size={28} />
                    <PresenceDot status={m.user_id === me?.id ? 'online' : presence[m.user_id]} />
                  </span>
                  <Link to={`/u/${m.username}`}>{m.username}</Link>
                  {m.role !== 'member' && <span className="badge role">{m.role}</span>}
                </li>
              ))}
          </ul>
        </aside>
      )}
    </div>
  );
}
