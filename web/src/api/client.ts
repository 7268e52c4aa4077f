// The one door to the REST API. The access token lives only in memory (never in storage, so
// an injected script that reads storage gets nothing durable); the refresh token lives in the
// HttpOnly `__Host-veza_refresh` cookie and is used through POST /auth/refresh with the CSRF
// token from the readable `__Host-veza_csrf` cookie (src/api/http/web_session.h).
import type { SignedIn } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
  ) {
    super(detail || title || `HTTP ${status}`);
  }
}

const CSRF_COOKIE = '__Host-veza_csrf';

let accessToken: string | null = null;
let accessExpiresAt = 0; // unix seconds
let refreshing: Promise<boolean> | null = null;
const tokenListeners = new Set<(signedIn: boolean) => void>();

export function setSession(s: { access_token: string; access_expires_at: number } | null): void {
  accessToken = s?.access_token ?? null;
  accessExpiresAt = s?.access_expires_at ?? 0;
  tokenListeners.forEach((l) => l(accessToken !== null));
}

export function hasAccessToken(): boolean {
  return accessToken !== null;
}

export function onSessionChange(listener: (signedIn: boolean) => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

export function readCookie(name: string, cookies = typeof document === 'undefined' ? '' : document.cookie): string {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return '';
}

export function hasRefreshCookie(): boolean {
  return readCookie(CSRF_COOKIE) !== '';
}

// One refresh at a time: parallel 401s all wait for the same answer.
export function refreshSession(): Promise<boolean> {
  if (!refreshing) {
    refreshing = (async () => {
      const csrf = readCookie(CSRF_COOKIE);
      if (!csrf) return false;
      try {
        const res = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          headers: { 'X-CSRF-Token': csrf },
          credentials: 'same-origin',
        });
        if (!res.ok) {
          setSession(null);
          return false;
        }
        const body = (await res.json()) as SignedIn;
        setSession(body);
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function problem(res: Response): Promise<ApiError> {
  let title = res.statusText;
  let detail = '';
  try {
    const body = await res.json();
    title = body.title ?? title;
    detail = body.detail ?? '';
  } catch {
    /* not problem+json */
  }
  return new ApiError(res.status, title, detail);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  raw?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  // Sign-in calls ask for the cookie session (X-Veza-Session: cookie).
  cookieSession?: boolean;
}

export async function authHeader(): Promise<Record<string, string>> {
  // Refresh a little before expiry instead of eating a 401 on every hour boundary.
  if (accessToken && accessExpiresAt && accessExpiresAt - Date.now() / 1000 < 30) await refreshSession();
  return accessToken ? { Authorization: `Bearer ${accessToken}` } : {};
}

export async function api<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
  const send = async (): Promise<Response> => {
    const headers: Record<string, string> = { Accept: 'application/json', ...(await authHeader()), ...options.headers };
    let body: BodyInit | undefined = options.raw;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    if (options.cookieSession) headers['X-Veza-Session'] = 'cookie';
    return fetch(path, {
      method: options.method ?? 'GET',
      headers,
      body,
      signal: options.signal,
      credentials: 'same-origin',
    });
  };
  let res = await send();
  if (res.status === 401 && accessToken !== null && (await refreshSession())) res = await send();
  if (!res.ok) throw await problem(res);
  if (res.status === 204 || res.headers.get('Content-Length') === '0') return undefined as T;
  const type = res.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return undefined as T;
  return (await res.json()) as T;
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
