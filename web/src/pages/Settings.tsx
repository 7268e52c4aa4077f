import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useTitle } from '../state/useTitle';
import QRCode from 'qrcode';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { Session, User } from '../api/types';
import { deviceName } from '../state/device';
import { UserAvatar } from '../components/Art';
import { useAuth } from '../state/auth';

type Tab = 'profile' | 'security' | 'sessions' | 'account';
const TABS: { id: Tab; label: string }[] = [
  { id: 'profile', label: 'Profile' },
  { id: 'security', label: 'Security' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'account', label: 'Account' },
];

function useSubmit() {
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const run = (action: () => Promise<string>) => async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy(true);
    setStatus(null);
    try {
      setStatus({ ok: true, text: await action() });
    } catch (err) {
      setStatus({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  const view = status && (
    <p className={status.ok ? 'ok-text' : 'error-text'} role={status.ok ? 'status' : 'alert'}>
      {status.text}
    </p>
  );
  return { run, busy, view };
}

function Panel({ title, description, children }: { title: string; description?: string; children: ReactNode }) {
  return (
    <section className="panel" aria-labelledby={`section-${title.replace(/\W+/g, '-')}`}>
      <h2 id={`section-${title.replace(/\W+/g, '-')}`}>{title}</h2>
      {description && <p className="muted small">{description}</p>}
      {children}
    </section>
  );
}

export function Settings() {
  useTitle('Settings');
  const { user } = useAuth();
  const [params, setParams] = useSearchParams();
  const tab = (params.get('tab') as Tab) || 'profile';
  if (!user) return null;
  return (
    <div className="page settings">
      <div className="page-head">
        <div>
          <p className="eyebrow">Settings</p>
          <h1>Your account</h1>
        </div>
      </div>
      {params.get('linked') && <p className="ok-text">Linked your {params.get('linked')} account.</p>}
      <div className="tabs" role="tablist" aria-label="Settings sections">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            className={tab === t.id ? 'tab active' : 'tab'}
            onClick={() => setParams({ tab: t.id })}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'profile' && <ProfileTab user={user} />}
        {tab === 'security' && <SecurityTab user={user} />}
        {tab === 'sessions' && <SessionsTab />}
        {tab === 'account' && <AccountTab />}
      </div>
    </div>
  );
}

function ProfileTab({ user }: { user: User }) {
  const { setUser, reload } = useAuth();
  const [displayName, setDisplayName] = useState(user.display_name);
  const [bio, setBio] = useState(user.bio);
  const [links, setLinks] = useState((user.links ?? []).join('\n'));
  const save = useSubmit();
  const avatar = useSubmit();
  return (
    <>
      <Panel title="Avatar" description="JPEG, PNG or WebP, up to 5 MB. Shown next to your tracks and messages.">
        <div className="avatar-row">
          <UserAvatar name={user.username} url={user.avatar?.['128']} size={72} />
          <label className="btn ghost small">
            Upload image
            <input
              type="file"
              accept="image/jpeg,image/png,image/webp"
              hidden
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (!file) return;
                void avatar.run(async () => {
                  await api('/api/v1/users/me/avatar', { method: 'PUT', raw: file, headers: { 'Content-Type': file.type } });
                  await reload();
                  return 'Avatar updated.';
                })();
              }}
            />
          </label>
          {user.avatar && (
            <button
              className="btn ghost small"
              onClick={avatar.run(async () => {
                await api('/api/v1/users/me/avatar', { method: 'DELETE' });
                await reload();
                return 'Avatar removed.';
              })}
            >
              Remove
            </button>
          )}
        </div>
        {avatar.view}
      </Panel>
      <Panel title="Profile" description="What everyone sees on your artist page.">
        <form
          className="form"
          onSubmit={save.run(async () => {
            const updated = await api<User>('/api/v1/users/me', {
              method: 'PATCH',
              body: { display_name: displayName, bio, links: links.split('\n').map((l) => l.trim()).filter(Boolean) },
            });
            setUser(updated);
            return 'Profile saved.';
          })}
        >
          <label>
            Display name
            <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={50} />
          </label>
          <label>
            Bio
            <textarea value={bio} onChange={(e) => setBio(e.target.value)} rows={4} maxLength={1000} />
          </label>
          <label>
            Links (one per line, up to 5)
            <textarea value={links} onChange={(e) => setLinks(e.target.value)} rows={3} />
          </label>
          {save.view}
          <button className="btn" disabled={save.busy}>
            Save profile
          </button>
        </form>
      </Panel>
    </>
  );
}

function SecurityTab({ user }: { user: User }) {
  const { setUser } = useAuth();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const pw = useSubmit();
  const [email, setEmail] = useState(user.email);
  const [emailPassword, setEmailPassword] = useState('');
  const mail = useSubmit();
  const verify = useSubmit();
  return (
    <>
      <Panel title="Password">
        <form
          className="form"
          onSubmit={pw.run(async () => {
            await api('/api/v1/auth/change-password', { method: 'POST', body: { current_password: current, new_password: next } });
            setCurrent('');
            setNext('');
            return 'Password changed. Other sessions were signed out.';
          })}
        >
          <label>
            Current password
            <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} autoComplete="current-password" required />
          </label>
          <label>
            New password
            <input type="password" value={next} onChange={(e) => setNext(e.target.value)} autoComplete="new-password" required />
          </label>
          {pw.view}
          <button className="btn" disabled={pw.busy}>
            Change password
          </button>
        </form>
      </Panel>
      <Panel title="Email" description={user.email_verified ? 'Verified.' : 'Not verified yet.'}>
        <form
          className="form"
          onSubmit={mail.run(async () => {
            setUser(await api<User>('/api/v1/auth/change-email', { method: 'POST', body: { password: emailPassword, email } }));
            setEmailPassword('');
            return 'Email changed. Check your inbox to verify it.';
          })}
        >
          <label>
            Email
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" required />
          </label>
          <label>
            Password
            <input type="password" value={emailPassword} onChange={(e) => setEmailPassword(e.target.value)} autoComplete="current-password" required />
          </label>
          {mail.view}
          <div className="form-actions">
            <button className="btn" disabled={mail.busy}>
              Change email
            </button>
            {!user.email_verified && (
              <button
                type="button"
                className="btn ghost"
                onClick={verify.run(async () => {
                  await api('/api/v1/auth/email/verify/request', { method: 'POST' });
                  return 'Verification mail sent.';
                })}
              >
                Resend verification
              </button>
            )}
          </div>
          {verify.view}
        </form>
      </Panel>
      <TwoFactor />
    </>
  );
}

function TwoFactor() {
  const [password, setPassword] = useState('');
  const [enrolment, setEnrolment] = useState<{ secret: string; otpauth_uri: string; recovery_codes: string[] } | null>(null);
  const [code, setCode] = useState('');
  const [offPassword, setOffPassword] = useState('');
  const [offCode, setOffCode] = useState('');
  const start = useSubmit();
  const confirm = useSubmit();
  const off = useSubmit();
  return (
    <Panel title="Two-step verification" description="Ask for a code from an authenticator app at sign-in.">
      {!enrolment ? (
        <form
          className="form"
          onSubmit={start.run(async () => {
            setEnrolment(await api('/api/v1/auth/2fa/totp', { method: 'POST', body: { password } }));
            setPassword('');
            return 'Scan the code below, then confirm.';
          })}
        >
          <label>
            Password
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />
          </label>
          {start.view}
          <button className="btn">Set up authenticator</button>
        </form>
      ) : (
        <div className="form">
          <div className="totp-setup">
            <QrImage text={enrolment.otpauth_uri} />
            <div>
              <p>Scan this with your authenticator app, or type the key (or open the <a href={enrolment.otpauth_uri}>setup link</a> on your phone):</p>
              <code className="secret" data-testid="totp-secret">{enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</code>
            </div>
          </div>
          <p className="small muted">Recovery codes (keep them somewhere safe; each works once):</p>
          <ul className="codes">
            {enrolment.recovery_codes.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <form
            className="form"
            onSubmit={confirm.run(async () => {
              await api('/api/v1/auth/2fa/totp/confirm', { method: 'POST', body: { code } });
              return 'Two-step verification is on.';
            })}
          >
            <label>
              6-digit code
              <input value={code} onChange={(e) => setCode(e.target.value)} inputMode="numeric" pattern="[0-9]{6}" autoComplete="one-time-code" required />
            </label>
            {confirm.view}
            <button className="btn">Confirm</button>
          </form>
        </div>
      )}
      <details className="details">
        <summary>Turn off two-step verification</summary>
        <form
          className="form"
          onSubmit={off.run(async () => {
            await api('/api/v1/auth/2fa/totp', { method: 'DELETE', body: { password: offPassword, code: offCode } });
            return 'Two-step verification is off.';
          })}
        >
          <label>
            Password
            <input type="password" value={offPassword} onChange={(e) => setOffPassword(e.target.value)} autoComplete="current-password" required />
          </label>
          <label>
            Code or recovery code
            <input value={offCode} onChange={(e) => setOffCode(e.target.value)} autoComplete="one-time-code" required />
          </label>
          {off.view}
          <button className="btn ghost danger">Turn off</button>
        </form>
      </details>
    </Panel>
  );
}

function QrImage({ text }: { text: string }) {
  const [src, setSrc] = useState('');
  useEffect(() => {
    QRCode.toDataURL(text, { margin: 1, width: 176, errorCorrectionLevel: 'M' })
      .then(setSrc)
      .catch(() => setSrc(''));
  }, [text]);
  return src ? <img className="qr" src={src} width={176} height={176} alt="QR code for the authenticator app" /> : null;
}

function SessionsTab() {
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState('');
  const load = () =>
    api<{ sessions: Session[] }>('/api/v1/auth/sessions')
      .then((r) => setSessions(r.sessions))
      .catch((e) => setError(errorMessage(e)));
  useEffect(() => {
    void load();
  }, []);
  return (
    <Panel title="Where you're signed in" description="Revoke any session you don't recognise.">
      {error && <p className="error-text">{error}</p>}
      <ul className="sessions">
        {sessions?.map((s) => (
          <li key={s.id} data-testid="session">
            <div>
              <strong title={s.device || undefined}>{deviceName(s.device)}</strong> {s.current && <span className="badge ready">This device</span>}
              <div className="muted small">
                {s.ip} · last active {new Date(s.last_used_at).toLocaleString()}
              </div>
            </div>
            {!s.current && (
              <button
                className="btn ghost small"
                onClick={async () => {
                  await api(`/api/v1/auth/sessions/${s.id}`, { method: 'DELETE' });
                  await load();
                }}
              >
                Revoke
              </button>
            )}
          </li>
        ))}
      </ul>
      <button
        className="btn ghost danger"
        onClick={async () => {
          await signOut(true);
          navigate('/login');
        }}
      >
        Sign out everywhere
      </button>
    </Panel>
  );
}

function AccountTab() {
  const { signOut } = useAuth();
  const navigate = useNavigate();
  const [password, setPassword] = useState('');
  const [confirmText, setConfirmText] = useState('');
  const del = useSubmit();
  return (
    <Panel title="Delete account" description="Removes your profile, tracks and sessions. This cannot be undone.">
      <form
        className="form"
        onSubmit={del.run(async () => {
          await api('/api/v1/users/me', { method: 'DELETE', body: { password } });
          await signOut().catch(() => undefined);
          navigate('/');
          return 'Account deleted.';
        })}
      >
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />
        </label>
        <label>
          Type DELETE to confirm
          <input value={confirmText} onChange={(e) => setConfirmText(e.target.value)} required />
        </label>
        {del.view}
        <button className="btn danger" disabled={confirmText !== 'DELETE' || del.busy}>
          Delete my account
        </button>
      </form>
    </Panel>
  );
}
