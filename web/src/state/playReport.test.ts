import { afterEach, describe, expect, it, vi } from 'vitest';
import { newSessionId, PlayReporter, reportProfileView, reportTrackView, type PlayEventKind } from './playReport';

function recorder() {
  const sent: [string, PlayEventKind, number][] = [];
  const r = new PlayReporter((id, b) => sent.push([id, b.kind, b.position_ms]));
  return { r, sent };
}

describe('play events', () => {
  it('starts one session per playback, qualifies at 30 s and completes once', () => {
    const { r, sent } = recorder();
    r.playing('t1', 0);
    r.playing('t1', 0.5); // resumed after a pause: the same session
    r.time(10, 40);
    r.time(30.2, 40);
    r.time(31, 40);
    r.ended(40);
    r.ended(40);
    expect(sent).toEqual([
      ['t1', 'start', 0],
      ['t1', 'progress', 30200],
      ['t1', 'complete', 40000],
    ]);
  });
  it('qualifies a short track at its end and skips a track left early', () => {
    const { r, sent } = recorder();
    r.playing('short', 0);
    r.time(12, 12);
    r.playing('next', 0);
    r.time(5, 200);
    r.leave(5);
    expect(sent.map(([id, k]) => `${id}:${k}`)).toEqual(['short:start', 'short:progress', 'short:skip', 'next:start', 'next:skip']);
  });
  it('plays a finished track again as a new session', () => {
    const { r, sent } = recorder();
    r.playing('t', 0);
    r.ended(3);
    r.playing('t', 0);
    expect(sent.map(([, k]) => k)).toEqual(['start', 'complete', 'start']);
  });
  it('makes session ids the server accepts', () => {
    expect(newSessionId(() => '0193c0dd-7c1e-7000-8000-00000000abcd')).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(newSessionId(() => 'a.b')).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
  });
});

describe('page views', () => {
  afterEach(() => vi.unstubAllGlobals());
  const captured = () => {
    const calls: { url: string; body: Record<string, unknown> }[] = [];
    vi.stubGlobal('fetch', (url: string, init: RequestInit) => {
      calls.push({ url, body: JSON.parse(String(init.body)) });
      return Promise.resolve(new Response(null, { status: 202 }));
    });
    return calls;
  };
  it('reports a profile view with a fresh id each time, the username escaped', async () => {
    const calls = captured();
    reportProfileView('dj mia');
    reportProfileView('dj mia');
    await vi.waitFor(() => expect(calls.length).toBe(2));
    expect(calls.map((c) => c.url)).toEqual(['/api/v1/users/dj%20mia/views', '/api/v1/users/dj%20mia/views']);
    expect(calls[0].body.session_id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(calls[0].body.session_id).not.toEqual(calls[1].body.session_id);
    expect(Object.keys(calls[0].body)).toEqual(['session_id']);
  });
  it('reports a track view as a view play event at position 0', async () => {
    const calls = captured();
    reportTrackView('t1');
    await vi.waitFor(() => expect(calls.length).toBe(1));
    expect(calls[0].url).toBe('/api/v1/tracks/t1/play-events');
    expect(calls[0].body).toMatchObject({ kind: 'view', position_ms: 0 });
  });
});
