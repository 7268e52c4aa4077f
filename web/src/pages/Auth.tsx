import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import { useAuth } from '../state/auth';

function AuthCard({ title, subtitle, children }: { title: string; subtitle: string; children: ReactNode }) {
  return (
    <div className="auth-page">
      <div className="auth-card">
        <Link to="/" className="auth-brand" aria-label="Veza home">
          <img src="/favicon.svg" alt="" width={40} height={40} />
          <span>veza</span>
        </Link>
        <h1>{title}</h1>
        <p className="muted">{subtitle}</p>
        {children}
      </div>
    </div>
  );
}

function OAuthButtons() {
  const [providers, setProviders] = useState<string[]>([]);
  useEffect(() => {
    api<{ providers: { name: string }[] }>('/api/v1/auth/oauth/providers')
      .then((r) => setProviders(r.providers.map((p) => p.name)))
      .catch(() => setProviders([]));
  }, []);
  if (!providers.length) return null;
  return (
    <>
      <div className="oauth">
        {providers.map((p) => (
          // A full navigation: the provider redirects back to the callback, which sets the cookies.
          <a key={p} className="btn ghost wide" href={`/api/v1/auth/oauth/${encodeURIComponent(p)}/start`}>
            Continue with {p.charAt(0).toUpperCase() + p.slice(1)}
          </a>
        ))}
      </div>
      <div className="divider">
        <span>or</span>
      </div>
    </>
  );
}

function useAfterSignIn() {
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  return () => navigate(from, { replace: true });
}

export function SignIn() {
  const { signIn } = useAuth();
  const done = useAfterSignIn();
  const navigate = useNavigate();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await signIn(login, password);
      if (r.done) done();
      else navigate(`/login/2fa#mfa_token=${encodeURIComponent(r.mfaToken)}`, { state: { from: '/' } });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title="Welcome back" subtitle="Sign in to upload, chat and keep your queue.">
      <OAuthButtons />
      <form onSubmit={submit} className="form">
        <label>
          Username or email
          <input value={login} onChange={(e) => setLogin(e.target.value)} autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" required />
        </label>
        {error && <p className="error-text" role="alert">{error}</p>}
        <button className="btn wide" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <Link to="/forgot-password" className="small center">
          Forgot your password?
        </Link>
      </form>
      <p className="muted small center">
        New here? <Link to="/signup">Create an account</Link>
      </p>
    </AuthCard>
  );
}

export function passwordStrength(pw: string): { score: number; label: string } {
  let score = 0;
  if (pw.length >= 10) score++;
  if (pw.length >= 14) score++;
  if (/[a-z]/.test(pw) && /[A-Z]/.test(pw)) score++;
  if (/\d/.test(pw)) score++;
  if (/[^A-Za-z0-9]/.test(pw)) score++;
  const s = Math.min(4, score);
  return { score: s, label: ['Too weak', 'Weak', 'Fair', 'Good', 'Strong'][s] };
}

export function SignUp() {
  const { signUp } = useAuth();
  const done = useAfterSignIn();
  const [username, setUsername] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const strength = passwordStrength(password);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await signUp(username, email, password);
      done();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthCard title="Create your account" subtitle="Free. Upload, stream and chat in one place.">
      <OAuthButtons />
      <form onSubmit={submit} className="form">
        <label>
          Username
          <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" required autoFocus />
        </label>
        <label>
          Email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" required />
        </label>
        <label>
          Password
          <input
            type="password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            autoComplete="new-password"
            required
            aria-describedby="pw-strength"
          />
        </label>
        <div className="strength" id="pw-strength" aria-live="polite" hidden={!password}>
          <div className="strength-bar">
            <span style={{ width: `${Math.max(1, strength.score) * 25}%` }} data-score={strength.score} />
          </div>
          <span className="small muted">{strength.label}</span>
        </div>
        {error && <p className="error-text" role="alert">{error}</p>}
        <button className="btn wide" disabled={busy}>
          {busy ? 'Creating…' : 'Create account'}
        </button>
      </form>
      <p className="muted small center">
        Already have an account? <Link to="/login">Sign in</Link>
      </p>
    </AuthCard>
  );
}

export function SecondFactor() {
  const { completeMfa } = useAuth();
  const done = useAfterSignIn();
  const location = useLocation();
  const token = new URLSearchParams(location.hash.slice(1)).get('mfa_token') ?? '';
  const [code, setCode] = useState('');
  const [recovery, setRecovery] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    try {
      await completeMfa(token, code.trim(), recovery);
      done();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <AuthCard title="Two-step verification" subtitle={recovery ? 'Enter one of your recovery codes.' : 'Enter the 6-digit code from your authenticator app.'}>
      {!token ? (
        <p className="error-text" role="alert">
          This sign-in has expired. <Link to="/login">Start again</Link>.
        </p>
      ) : (
        <form onSubmit={submit} className="form">
          <label>
            {recovery ? 'Recovery code' : 'Code'}
            <input
              value={code}
              onChange={(e) => setCode(e.target.value)}
              inputMode={recovery ? 'text' : 'numeric'}
              autoComplete="one-time-code"
              pattern={recovery ? undefined : '[0-9]{6}'}
              required
              autoFocus
            />
          </label>
          {error && <p className="error-text" role="alert">{error}</p>}
          <button className="btn wide">Verify</button>
          <button type="button" className="link-btn" onClick={() => setRecovery((r) => !r)}>
            {recovery ? 'Use an authenticator code' : 'Use a recovery code'}
          </button>
        </form>
      )}
    </AuthCard>
  );
}

// The links in mail: <public-url>/verify-email?token=… and /reset-password?token=….
export function VerifyEmail() {
  const location = useLocation();
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const [state, setState] = useState<'working' | 'done' | string>('working');
  useEffect(() => {
    api('/api/v1/auth/email/verify', { method: 'POST', body: { token } })
      .then(() => setState('done'))
      .catch((e) => setState(errorMessage(e)));
  }, [token]);
  return (
    <AuthCard title="Email verification" subtitle={state === 'working' ? 'Checking your link…' : state === 'done' ? 'Your email address is verified.' : 'This link did not work.'}>
      {state !== 'working' && state !== 'done' && <p className="error-text" role="alert">{state}</p>}
      <Link to="/" className="btn wide">
        Go to Veza
      </Link>
    </AuthCard>
  );
}

export function ForgotPassword() {
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('/api/v1/auth/password/forgot', { method: 'POST', body: { email } });
      setSent(true);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <AuthCard title="Reset your password" subtitle="We'll mail you a link to choose a new one.">
      {sent ? (
        <p className="ok-text" role="status">
          If an account uses {email}, a reset link is on its way.
        </p>
      ) : (
        <form onSubmit={submit} className="form">
          <label>
            Email
            <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" required autoFocus />
          </label>
          {error && <p className="error-text" role="alert">{error}</p>}
          <button className="btn wide">Send reset link</button>
        </form>
      )}
      <p className="muted small center">
        <Link to="/login">Back to sign in</Link>
      </p>
    </AuthCard>
  );
}

export function ResetPassword() {
  const location = useLocation();
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api('/api/v1/auth/password/reset', { method: 'POST', body: { token, new_password: password } });
      setDone(true);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <AuthCard
      title={done ? 'Password changed' : 'Choose a new password'}
      subtitle={done ? 'Every session was signed out, on every device.' : 'Every session is signed out when it changes.'}
    >
      {done ? (
        <Link to="/login" className="btn wide">
          Sign in with the new password
        </Link>
      ) : (
        <form onSubmit={submit} className="form">
          <label>
            New password
            <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required autoFocus />
          </label>
          {error && <p className="error-text" role="alert">{error}</p>}
          <button className="btn wide">Set password</button>
        </form>
      )}
    </AuthCard>
  );
}
