// Play events for creator stats (docs/analytics.md): one session per playback of a track, with
// `start` when it starts playing, `progress` once it reaches 30 s (the server's qualified play,
// which is also the public plays count), `complete` at the end and `skip` when the listener
// moves on before it. Events are fire-and-forget: the server counts each once per session, so a
// lost or repeated event changes nothing.
import { api } from '../api/client';

export const QUALIFY_SECONDS = 30;

export type PlayEventKind = 'start' | 'progress' | 'complete' | 'skip';

export function newSessionId(random: () => string = () => globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`): string {
  // The server wants 8–64 of [A-Za-z0-9_-].
  return random().replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64).padEnd(8, '0');
}

export class PlayReporter {
  private session: { trackId: string; id: string; progressed: boolean; ended: boolean } | null = null;

  constructor(private readonly send: (trackId: string, body: { kind: PlayEventKind; session_id: string; position_ms: number }) => void = sendPlayEvent) {}

  private emit(kind: PlayEventKind, seconds: number) {
    if (!this.session) return;
    this.send(this.session.trackId, { kind, session_id: this.session.id, position_ms: Math.max(0, Math.round(seconds * 1000)) });
  }

  // The element is playing trackId: a new session unless this playback already has one.
  playing(trackId: string, seconds: number) {
    if (this.session?.trackId === trackId && !this.session.ended) return;
    this.leave(seconds);
    this.session = { trackId, id: newSessionId(), progressed: false, ended: false };
    this.emit('start', seconds);
  }

  time(seconds: number, duration: number) {
    const s = this.session;
    if (!s || s.progressed || s.ended) return;
    if (seconds >= Math.min(QUALIFY_SECONDS, Number.isFinite(duration) && duration > 0 ? duration : QUALIFY_SECONDS)) {
      s.progressed = true;
      this.emit('progress', seconds);
    }
  }

  ended(seconds: number) {
    if (!this.session || this.session.ended) return;
    this.emit('complete', seconds);
    this.session.ended = true;
  }

  // Another track (or none) replaces this one before its end.
  leave(seconds: number) {
    if (this.session && !this.session.ended) this.emit('skip', seconds);
    this.session = null;
  }
}

function sendPlayEvent(trackId: string, body: { kind: PlayEventKind; session_id: string; position_ms: number }) {
  api(`/api/v1/tracks/${trackId}/play-events`, { method: 'POST', body }).catch(() => undefined);
}

// Page views (docs/analytics.md): one report each time a track page or a profile is shown; the
// server counts a viewer once per page per window and ignores owners looking at their own.
export function reportTrackView(trackId: string) {
  api(`/api/v1/tracks/${trackId}/play-events`, { method: 'POST', body: { kind: 'view', session_id: newSessionId(), position_ms: 0 } }).catch(() => undefined);
}

export function reportProfileView(username: string) {
  api(`/api/v1/users/${encodeURIComponent(username)}/views`, { method: 'POST', body: { session_id: newSessionId() } }).catch(() => undefined);
}
