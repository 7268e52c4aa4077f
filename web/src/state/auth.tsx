import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, hasRefreshCookie, refreshSession, setSession } from '../api/client';
import type { MfaChallenge, Role, SignedIn, User } from '../api/types';

export type SignInResult = { done: true } | { done: false; mfaToken: string };

interface AuthState {
  user: User | null;
  // False until the refresh cookie has been tried, so pages don't flash "sign in".
  ready: boolean;
  signIn(login: string, password: string): Promise<SignInResult>;
  completeMfa(mfaToken: string, code: string, recovery: boolean): Promise<void>;
  signUp(username: string, email: string, password: string): Promise<void>;
  signOut(everywhere?: boolean): Promise<void>;
  reload(): Promise<void>;
  setUser(user: User): void;
}

const AuthContext = createContext<AuthState | null>(null);

const ROLE_RANK: Record<Role, number> = { user: 0, moderator: 1, admin: 2, super_admin: 3 };

export function hasRole(user: User | null, minimum: Role): boolean {
  return user !== null && ROLE_RANK[user.role] >= ROLE_RANK[minimum];
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [ready, setReady] = useState(false);

  const loadMe = useCallback(async () => {
    setUser(await api<User>('/api/v1/users/me'));
  }, []);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        if (hasRefreshCookie() && (await refreshSession()) && !cancelled) await loadMe();
      } catch {
        setSession(null);
      } finally {
        if (!cancelled) setReady(true);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [loadMe]);

  const accept = useCallback((s: SignedIn) => {
    setSession(s);
    setUser(s.user);
  }, []);

  const value = useMemo<AuthState>(
    () => ({
      user,
      ready,
      async signIn(login, password) {
        const r = await api<SignedIn | MfaChallenge>('/api/v1/auth/login', {
          method: 'POST',
          body: { login, password },
          cookieSession: true,
        });
        if ('mfa_required' in r) return { done: false, mfaToken: r.mfa_token };
        accept(r);
        await loadMe();
        return { done: true };
      },
      async completeMfa(mfaToken, code, recovery) {
        const r = await api<SignedIn>('/api/v1/auth/login/2fa', {
          method: 'POST',
          body: recovery ? { mfa_token: mfaToken, recovery_code: code } : { mfa_token: mfaToken, code },
          cookieSession: true,
        });
        accept(r);
        await loadMe();
      },
      async signUp(username, email, password) {
        const r = await api<SignedIn>('/api/v1/auth/register', {
          method: 'POST',
          body: { username, email, password },
          cookieSession: true,
        });
        accept(r);
        await loadMe();
      },
      async signOut(everywhere = false) {
        try {
          await api(everywhere ? '/api/v1/auth/logout-all' : '/api/v1/auth/logout', { method: 'POST' });
        } finally {
          setSession(null);
          setUser(null);
        }
      },
      reload: loadMe,
      setUser,
    }),
    [user, ready, accept, loadMe],
  );

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}
