import { describe, expect, it } from 'vitest';
import { newSessionId, PlayReporter, type PlayEventKind } from './playReport';

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
