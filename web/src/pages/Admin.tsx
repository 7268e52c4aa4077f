import { lazy, Suspense, useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTitle } from '../state/useTitle';
import { api, errorMessage } from '../api/client';
import type { AdminUser, AuditEntry, Role } from '../api/types';
import { UserAvatar } from '../components/Art';
import { Icon } from '../components/Icon';
import { hasRole, useAuth } from '../state/auth';
import { knownNames } from '../state/names';
import { ModerationQueue, moderationAvailable, Sanctions, WordFilter } from './AdminModeration';
import { AdminRooms } from './AdminRooms';
import { AdminTakedowns } from './AdminTracks';

// The system page draws a chart (uPlot): loaded when opened.
const AdminSystem = lazy(() => import('./AdminSystem').then((m) => ({ default: m.AdminSystem })));

const ROLES: Role[] = ['user', 'moderator', 'admin', 'super_admin'];

export function Admin() {
  useTitle('Admin');
  const { user } = useAuth();
  type Tab = 'users' | 'reports' | 'words' | 'sanctions' | 'takedowns' | 'audit' | 'rooms' | 'system';
  const [tab, setTab] = useState<Tab>('users');
  const [moderation, setModeration] = useState(false);
  useEffect(() => {
    void moderationAvailable().then(setModeration);
  }, []);
  const isAdmin = hasRole(user, 'admin');
  const tabButton = (t: Tab, label: string) => (
    <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'tab active' : 'tab'} onClick={() => setTab(t)}>
      {label}
    </button>
  );
  return (
    <div className="page admin">
      <div className="page-head">
        <div>
          <p className="eyebrow">Admin</p>
          <h1>Moderation dashboard</h1>
        </div>
        <span className="badge role">{user?.role.replace('_', ' ')}</span>
      </div>
      <div className="tabs" role="tablist" aria-label="Admin sections">
        <button role="tab" aria-selected={tab === 'users'} className={tab === 'users' ? 'tab active' : 'tab'} onClick={() => setTab('users')}>
          Users
        </button>
        {moderation && tabButton('reports', 'Reports')}
        {moderation && tabButton('words', 'Word filter')}
        {moderation && tabButton('sanctions', 'Bans and mutes')}
        {tabButton('takedowns', 'Takedowns')}
        {tabButton('rooms', 'Rooms')}
        {isAdmin && (
          <button role="tab" aria-selected={tab === 'audit'} className={tab === 'audit' ? 'tab active' : 'tab'} onClick={() => setTab('audit')}>
            Audit log
          </button>
        )}
        {isAdmin && (
          <button role="tab" aria-selected={tab === 'system'} className={tab === 'system' ? 'tab active' : 'tab'} onClick={() => setTab('system')}>
            System
          </button>
        )}
      </div>
      {tab === 'users' ? (
        <Users canEdit={isAdmin} />
      ) : tab === 'reports' ? (
        <ModerationQueue canGlobal={isAdmin} />
      ) : tab === 'words' ? (
        <WordFilter />
      ) : tab === 'sanctions' ? (
        <Sanctions names={knownNames()} />
      ) : tab === 'takedowns' ? (
        <AdminTakedowns />
      ) : tab === 'rooms' ? (
        <AdminRooms />
      ) : tab === 'system' ? (
        <Suspense fallback={<p className="muted pad">Loading…</p>}>
          <AdminSystem />
        </Suspense>
      ) : (
        <AuditLog />
      )}
    </div>
  );
}

function Users({ canEdit }: { canEdit: boolean }) {
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState<AdminUser[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [selected, setSelected] = useState<AdminUser | null>(null);
  const [error, setError] = useState('');

  const search = useCallback(async (q: string, from: string | null) => {
    try {
      const params = new URLSearchParams({ limit: '25' });
      if (q) params.set('query', q);
      if (from) params.set('cursor', from);
      const page = await api<{ users: AdminUser[]; next_cursor: string | null }>(`/api/v1/admin/users?${params}`);
      setUsers((u) => (from ? [...u, ...page.users] : page.users));
      setCursor(page.next_cursor);
      setError('');
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);

  // Instant search, debounced.
  useEffect(() => {
    const t = window.setTimeout(() => void search(query.trim(), null), 200);
    return () => window.clearTimeout(t);
  }, [query, search]);

  const replace = (u: AdminUser) => {
    setUsers((all) => all.map((x) => (x.id === u.id ? u : x)));
    setSelected(u);
  };

  return (
    <div className="admin-users">
      <div className="admin-list">
        <label className="search">
          <Icon name="search" size={18} />
          <span className="sr-only">Search users</span>
          <input type="search" placeholder="Search by username or email" value={query} onChange={(e) => setQuery(e.target.value)} data-testid="admin-search" />
        </label>
        {error && <p className="error-text" role="alert">{error}</p>}
        <table className="table">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Joined</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.id} className={selected?.id === u.id ? 'selected' : ''}>
                <td>
                  <button className="user-cell" onClick={() => setSelected(u)} data-testid="admin-user">
                    <UserAvatar name={u.username} size={28} />
                    <span>
                      <strong>{u.username}</strong>
                      <span className="muted small">{u.email}</span>
                    </span>
                  </button>
                </td>
                <td>
                  <span className={`badge role-${u.role}`}>{u.role.replace('_', ' ')}</span>
                </td>
                <td>{u.suspended ? <span className="badge failed">Suspended</span> : <span className="badge ready">Active</span>}</td>
                <td className="muted small">{new Date(u.created_at).toLocaleDateString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!users.length && !error && <p className="muted pad">No accounts match.</p>}
        {cursor && (
          <button className="btn ghost load-more" onClick={() => search(query.trim(), cursor)}>
            Load more
          </button>
        )}
      </div>
      {selected && <UserDetail key={selected.id} user={selected} canEdit={canEdit} onChanged={replace} onClose={() => setSelected(null)} />}
    </div>
  );
}

function UserDetail({ user, canEdit, onChanged, onClose }: { user: AdminUser; canEdit: boolean; onChanged(u: AdminUser): void; onClose(): void }) {
  const [role, setRole] = useState<Role>(user.role);
  const [reason, setReason] = useState('');
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const change = async (body: Record<string, unknown>, done: string) => {
    setStatus(null);
    try {
      const updated = await api<AdminUser>(`/api/v1/admin/users/${user.id}`, { method: 'PATCH', body: { ...body, reason } });
      onChanged(updated);
      setStatus({ ok: true, text: done });
      return updated;
    } catch (e) {
      setStatus({ ok: false, text: errorMessage(e) });
      return null;
    }
  };
  const needReason = !reason.trim();
  return (
    <aside className="admin-detail panel" aria-label={`Account ${user.username}`}>
      <div className="detail-head">
        <UserAvatar name={user.username} size={56} />
        <div>
          <h2>{user.username}</h2>
          <p className="muted small">{user.email}</p>
        </div>
        <button className="icon-btn" onClick={onClose} aria-label="Close">
          <Icon name="x" />
        </button>
      </div>
      <dl className="facts">
        <div>
          <dt>Id</dt>
          <dd>
            <code>{user.id}</code>
          </dd>
        </div>
        <div>
          <dt>Role</dt>
          <dd>{user.role.replace('_', ' ')}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd>{user.suspended ? 'Suspended' : 'Active'}</dd>
        </div>
        <div>
          <dt>Joined</dt>
          <dd>{new Date(user.created_at).toLocaleDateString()}</dd>
        </div>
      </dl>
      {canEdit ? (
        <form className="form" onSubmit={(e: FormEvent) => e.preventDefault()}>
          <label>
            Reason (written to the audit log)
            <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required data-testid="admin-reason" />
          </label>
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.target.value as Role)}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r.replace('_', ' ')}
                </option>
              ))}
            </select>
          </label>
          <div className="form-actions wrap">
            <button type="button" className="btn small" disabled={needReason || role === user.role} onClick={() => change({ role }, `Role changed to ${role}.`)}>
              Change role
            </button>
            {user.suspended ? (
              <button type="button" className="btn ghost small" disabled={needReason} onClick={() => change({ suspended: false }, 'Account restored.')}>
                Unsuspend
              </button>
            ) : (
              <button type="button" className="btn small danger" disabled={needReason} onClick={() => change({ suspended: true }, 'Suspended; every session was signed out.')} data-testid="admin-suspend">
                Suspend
              </button>
            )}
            {!user.suspended && (
              // The API has no separate sign-out route: a suspension revokes every session, and
              // lifting it at once leaves the account usable (both steps are in the audit log).
              <button
                type="button"
                className="btn ghost small"
                disabled={needReason}
                onClick={async () => {
                  if (await change({ suspended: true }, '')) await change({ suspended: false }, 'Signed out of every session.');
                }}
              >
                Force sign-out
              </button>
            )}
          </div>
          {status && (
            <p className={status.ok ? 'ok-text' : 'error-text'} role={status.ok ? 'status' : 'alert'}>
              {status.text}
            </p>
          )}
        </form>
      ) : (
        <p className="muted small">Moderators can look accounts up; role changes and suspensions need an admin.</p>
      )}
    </aside>
  );
}

function AuditLog() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState('');
  const load = useCallback(async (from: string | null) => {
    try {
      const params = new URLSearchParams({ limit: '50' });
      if (from) params.set('cursor', from);
      const page = await api<{ entries: AuditEntry[]; next_cursor: string | null }>(`/api/v1/admin/audit-log?${params}`);
      setEntries((e) => (from ? [...e, ...page.entries] : page.entries));
      setCursor(page.next_cursor);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);
  useEffect(() => {
    void load(null);
  }, [load]);
  const f = filter.trim().toLowerCase();
  const shown = f ? entries.filter((e) => JSON.stringify(e).toLowerCase().includes(f)) : entries;
  return (
    <div>
      <label className="search">
        <Icon name="search" size={18} />
        <span className="sr-only">Filter the audit log</span>
        <input type="search" placeholder="Filter by action, actor, target or reason" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </label>
      {error && <p className="error-text" role="alert">{error}</p>}
      <table className="table audit">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((e) => (
            <tr key={e.id} data-testid="audit-entry">
              <td className="muted small nowrap">{new Date(e.created_at).toLocaleString()}</td>
              <td>
                <span className="badge">{e.action}</span>
              </td>
              <td className="small">
                {e.target_type} <code>{e.target_id.slice(0, 8)}</code>
              </td>
              <td className="small details-cell">
                <code>{typeof e.details === 'string' ? e.details : JSON.stringify(e.details)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!shown.length && !error && <p className="muted pad">No entries.</p>}
      {cursor && (
        <button className="btn ghost load-more" onClick={() => load(cursor)}>
          Load more
        </button>
      )}
    </div>
  );
}
