// Admin: chat rooms (list, edit name/topic/slow mode, delete).
import { useEffect, useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Room } from '../api/types';
import { Icon } from '../components/Icon';

export function AdminRooms() {
  const [rooms, setRooms] = useState<Room[]>([]);
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<Room | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api<{ rooms: Room[] }>('/api/v1/chat/rooms?limit=200')
      .then((r) => setRooms(r.rooms.filter((x) => x.kind !== 'dm' && x.kind !== 'direct')))
      .catch((e) => setError(errorMessage(e)));
  }, []);
  const shown = rooms.filter((r) => !filter || r.name.toLowerCase().includes(filter.toLowerCase()));
  return (
    <div className="admin-users">
      <div className="admin-list">
        <label className="search">
          <Icon name="search" size={18} />
          <span className="sr-only">Filter rooms</span>
          <input type="search" placeholder="Filter rooms by name" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </label>
        {error && <p className="error-text" role="alert">{error}</p>}
        <table className="table">
          <thead>
            <tr>
              <th>Room</th>
              <th>Kind</th>
              <th>Messages</th>
              <th>Slow mode</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.id} className={selected?.id === r.id ? 'selected' : ''} data-testid="admin-room">
                <td>
                  <button className="user-cell" onClick={() => setSelected(r)}>
                    <Icon name={r.kind === 'private' ? 'lock' : 'hash'} size={16} />
                    <span>
                      <strong>{r.name}</strong>
                      <span className="muted small">{r.topic || 'No topic'}</span>
                    </span>
                  </button>
                </td>
                <td className="muted">{r.kind}</td>
                <td>{r.last_seq}</td>
                <td>{r.slow_mode_seconds ? `${r.slow_mode_seconds} s` : 'Off'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!shown.length && !error && <p className="muted pad">No rooms.</p>}
      </div>
      {selected && (
        <RoomDetail
          key={selected.id}
          room={selected}
          onSaved={(r) => {
            setRooms((all) => all.map((x) => (x.id === r.id ? { ...x, ...r } : x)));
            setSelected({ ...selected, ...r });
          }}
          onDeleted={() => {
            setRooms((all) => all.filter((x) => x.id !== selected.id));
            setSelected(null);
          }}
        />
      )}
    </div>
  );
}

function RoomDetail({ room, onSaved, onDeleted }: { room: Room; onSaved(r: Room): void; onDeleted(): void }) {
  const [name, setName] = useState(room.name);
  const [topic, setTopic] = useState(room.topic);
  const [slow, setSlow] = useState(room.slow_mode_seconds);
  const [msg, setMsg] = useState('');
  const [error, setError] = useState('');
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      onSaved(await api<Room>(`/api/v1/chat/rooms/${room.id}`, { method: 'PATCH', body: { name, topic, slow_mode_seconds: slow } }));
      setMsg('Room saved.');
      setError('');
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  const remove = async () => {
    if (!confirm(`Delete #${room.name} and all its messages?`)) return;
    try {
      await api(`/api/v1/chat/rooms/${room.id}`, { method: 'DELETE' });
      onDeleted();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <aside className="panel admin-detail" aria-label={`Room ${room.name}`}>
      <div className="detail-head">
        <span className="hit-icon" aria-hidden="true">
          <Icon name="hash" />
        </span>
        <div>
          <h2>#{room.name}</h2>
          <p className="muted small">
            <Link to={`/chat/${room.id}`}>Open in chat</Link>
          </p>
        </div>
      </div>
      <form className="form" onSubmit={save}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required />
        </label>
        <label>
          Topic
          <input value={topic} onChange={(e) => setTopic(e.target.value)} maxLength={500} />
        </label>
        <label>
          Slow mode
          <select value={slow} onChange={(e) => setSlow(Number(e.target.value))} data-testid="admin-slow-mode">
            {[0, 5, 10, 30, 60, 300, 900].map((s) => (
              <option key={s} value={s}>
                {s === 0 ? 'Off' : s < 60 ? `${s} seconds` : `${s / 60} minute${s > 60 ? 's' : ''}`}
              </option>
            ))}
          </select>
        </label>
        {msg && <p className="ok-text small">{msg}</p>}
        {error && <p className="error-text small" role="alert">{error}</p>}
        <div className="form-actions">
          <button className="btn small">Save room</button>
          <button type="button" className="btn ghost small danger" onClick={remove}>
            Delete room
          </button>
        </div>
      </form>
    </aside>
  );
}
