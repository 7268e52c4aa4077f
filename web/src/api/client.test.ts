import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, readCookie, refreshSession, setSession } from './client';

function json(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

describe('api client', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    setSession(null);
    document.cookie = '__Host-veza_csrf=; Secure; Path=/; Max-Age=0';
  });

  it('reads cookies by exact name', () => {
    expect(readCookie('a', 'ab=1; a=2; b=3')).toBe('2');
    expect(readCookie('__Host-veza_csrf', ' __Host-veza_csrf=x%2Fy')).toBe('x/y');
    expect(readCookie('missing', 'a=1')).toBe('');
  });

  it('sends the bearer token and turns problem+json into ApiError', async () => {
    setSession({ access_token: 'tok', access_expires_at: Date.now() / 1000 + 3600 });
    const fetchMock = vi.fn().mockResolvedValue(json(409, { title: 'Conflict', detail: 'username taken' }));
    vi.stubGlobal('fetch', fetchMock);
    const err = (await api('/api/v1/x', { method: 'POST', body: { a: 1 } }).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(409);
    expect(err.message).toBe('username taken');
    const [, init] = fetchMock.mock.calls[0];
    expect(init.headers.Authorization).toBe('Bearer tok');
    expect(init.headers['Content-Type']).toBe('application/json');
    expect(init.body).toBe('{"a":1}');
  });

  it('refreshes once on 401 with the CSRF cookie and retries', async () => {
    setSession({ access_token: 'old', access_expires_at: Date.now() / 1000 + 3600 });
    document.cookie = '__Host-veza_csrf=csrf123; Secure; Path=/';
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(json(401, { title: 'Unauthorized' }))
      .mockResolvedValueOnce(json(200, { access_token: 'new', access_expires_at: Date.now() / 1000 + 3600 }))
      .mockResolvedValueOnce(json(200, { ok: true }));
    vi.stubGlobal('fetch', fetchMock);
    expect(await api('/api/v1/users/me')).toEqual({ ok: true });
    const refresh = fetchMock.mock.calls[1];
    expect(refresh[0]).toBe('/api/v1/auth/refresh');
    expect(refresh[1].headers['X-CSRF-Token']).toBe('csrf123');
    expect(refresh[1].body).toBeUndefined();
    expect(fetchMock.mock.calls[2][1].headers.Authorization).toBe('Bearer new');
  });

  it('parallel refreshes share one request', async () => {
    document.cookie = '__Host-veza_csrf=c; Secure; Path=/';
    const fetchMock = vi.fn().mockResolvedValue(json(200, { access_token: 'n', access_expires_at: 1e12 }));
    vi.stubGlobal('fetch', fetchMock);
    const [a, b] = await Promise.all([refreshSession(), refreshSession()]);
    expect(a && b).toBe(true);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });

  it('without a CSRF cookie there is nothing to refresh', async () => {
    const fetchMock = vi.fn();
    vi.stubGlobal('fetch', fetchMock);
    expect(await refreshSession()).toBe(false);
    expect(fetchMock).not.toHaveBeenCalled();
  });
});
