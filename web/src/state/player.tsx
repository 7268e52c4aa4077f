// The persistent player: one <audio> element for the whole app, rendered above the router so a
// page change never interrupts playback.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api, authHeader } from '../api/client';
import { PlayReporter } from './playReport';
import type { Track } from '../api/types';
import * as Q from './queue';

interface PlayerState {
  queue: Q.QueueState;
  track: Track | null;
  playing: boolean;
  buffering: boolean;
  position: number;
  duration: number;
  volume: number;
  muted: boolean;
  error: string;
  play(track: Track, context?: Track[]): void;
  toggle(): void;
  seek(seconds: number): void;
  seekFraction(fraction: number): void;
  next(): void;
  previous(): void;
  enqueue(track: Track): void;
  removeFromQueue(index: number): void;
  jumpTo(index: number): void;
  setVolume(v: number): void;
  toggleMute(): void;
}

const PlayerContext = createContext<PlayerState | null>(null);

const VOLUME_KEY = 'veza-volume';

function storedVolume(): number {
  const v = Number(globalThis.localStorage?.getItem(VOLUME_KEY) ?? '0.8');
  return Number.isFinite(v) && v >= 0 && v <= 1 ? v : 0.8;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

type HlsLike = { destroy(): void; loadSource(url: string): void; attachMedia(m: HTMLMediaElement): void };

export function PlayerProvider({ children }: { children: ReactNode }) {
  const audioRef = useRef<HTMLAudioElement>(null);
  const hlsRef = useRef<HlsLike | null>(null);
  const [queue, setQueue] = useState<Q.QueueState>(Q.emptyQueue);
  const [playing, setPlaying] = useState(false);
  const [buffering, setBuffering] = useState(false);
  const [position, setPosition] = useState(0);
  const [duration, setDuration] = useState(0);
  const [volume, setVolumeState] = useState(storedVolume);
  const [muted, setMuted] = useState(false);
  const [error, setError] = useState('');
  const loadedId = useRef<string | null>(null);
  const retries = useRef(0);
  const reporter = useRef(new PlayReporter());
  const wantPlay = useRef(false);

  const track = Q.current(queue);

  // Signed URLs expire; a fresh copy of the track carries fresh ones.
  const freshTrack = useCallback(async (t: Track): Promise<Track> => {
    try {
      const fresh = await api<Track>(`/api/v1/tracks/${t.id}`);
      setQueue((q) => Q.replaceTrack(q, fresh));
      return fresh;
    } catch {
      return t;
    }
  }, []);

  const attach = useCallback(async (t: Track, startAt = 0) => {
    const audio = audioRef.current;
    if (!audio) return;
    hlsRef.current?.destroy();
    hlsRef.current = null;
    setError('');
    if (t.stream_url) {
      audio.src = t.stream_url;
    } else if (t.hls_url && audio.canPlayType('application/vnd.apple.mpegurl')) {
      audio.src = t.hls_url;
    } else if (t.hls_url) {
      const { default: Hls } = await import('hls.js');
      if (!Hls.isSupported()) {
        setError('This browser cannot play this track.');
        return;
      }
      const headers = await authHeader();
      const hls = new Hls({
        xhrSetup: (xhr: XMLHttpRequest) => {
          if (headers.Authorization) xhr.setRequestHeader('Authorization', headers.Authorization);
        },
      });
      hls.loadSource(t.hls_url);
      hls.attachMedia(audio);
      hlsRef.current = hls;
    } else {
      setError(t.state === 'ready' ? 'No stream available.' : 'This track is still processing.');
      return;
    }
    if (startAt > 0) {
      const seekOnce = () => {
        audio.currentTime = startAt;
        audio.removeEventListener('loadedmetadata', seekOnce);
      };
      audio.addEventListener('loadedmetadata', seekOnce);
    }
    if (wantPlay.current) audio.play().catch(() => undefined);
  }, []);

  // Load whatever became current.
  useEffect(() => {
    if (!track) return;
    if (loadedId.current === track.id) return;
    reporter.current.leave(audioRef.current?.currentTime ?? 0);
    loadedId.current = track.id;
    retries.current = 0;
    setPosition(0);
    setDuration(track.duration_ms / 1000);
    void (async () => {
      const t = track.stream_url || track.hls_url ? track : await freshTrack(track);
      await attach(t);
    })();
  }, [track, attach, freshTrack]);

  const play = useCallback((t: Track, context?: Track[]) => {
    wantPlay.current = true;
    setQueue((q) => Q.playNow(q, t, context));
    const audio = audioRef.current;
    if (audio && loadedId.current === t.id) audio.play().catch(() => undefined);
  }, []);

  const toggle = useCallback(() => {
    const audio = audioRef.current;
    if (!audio || !loadedId.current) return;
    if (audio.paused) {
      wantPlay.current = true;
      audio.play().catch(() => undefined);
    } else {
      wantPlay.current = false;
      audio.pause();
    }
  }, []);

  const seek = useCallback((seconds: number) => {
    const audio = audioRef.current;
    if (!audio) return;
    const max = Number.isFinite(audio.duration) ? audio.duration : seconds;
    audio.currentTime = Math.max(0, Math.min(seconds, max));
    setPosition(audio.currentTime);
  }, []);

  const seekFraction = useCallback(
    (f: number) => {
      const audio = audioRef.current;
      const d = audio && Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : duration;
      seek(Math.max(0, Math.min(1, f)) * d);
    },
    [seek, duration],
  );

  const next = useCallback(() => {
    wantPlay.current = true;
    setQueue(Q.next);
  }, []);

  const previous = useCallback(() => {
    const audio = audioRef.current;
    const pos = audio?.currentTime ?? 0;
    setQueue((q) => {
      const i = Q.previousIndex(q, pos);
      if (i === q.index && audio) audio.currentTime = 0;
      return i === q.index ? q : { ...q, index: i };
    });
  }, []);

  const setVolume = useCallback((v: number) => {
    const clamped = Math.max(0, Math.min(1, v));
    setVolumeState(clamped);
    setMuted(false);
    globalThis.localStorage?.setItem(VOLUME_KEY, String(clamped));
  }, []);

  useEffect(() => {
    const audio = audioRef.current;
    if (audio) {
      audio.volume = volume;
      audio.muted = muted;
    }
  }, [volume, muted]);

  // Media element events.
  useEffect(() => {
    const audio = audioRef.current;
    if (!audio) return;
    const onTime = () => {
      setPosition(audio.currentTime);
      // The play counts at 30 s (or the end of a shorter track): see state/playReport.ts.
      reporter.current.time(audio.currentTime, audio.duration);
    };
    const onDuration = () => Number.isFinite(audio.duration) && setDuration(audio.duration);
    const onPlay = () => setPlaying(true);
    const onPause = () => setPlaying(false);
    const onWaiting = () => setBuffering(true);
    const onPlaying = () => {
      setBuffering(false);
      retries.current = 0;
      if (loadedId.current) reporter.current.playing(loadedId.current, audio.currentTime);
    };
    const onEnded = () => {
      reporter.current.ended(audio.currentTime);
      setQueue((q) => {
        const n = Q.next(q);
        if (n === q) wantPlay.current = false;
        return n;
      });
    };
    // A network hiccup or an expired signature: fetch fresh URLs and resume where we were.
    const onError = () => {
      const current = loadedId.current;
      if (!current || retries.current >= 3) {
        setError('Playback failed. Check your connection.');
        setBuffering(false);
        return;
      }
      retries.current++;
      const at = audio.currentTime;
      setBuffering(true);
      window.setTimeout(async () => {
        if (loadedId.current !== current) return;
        const fresh = await freshTrack({ id: current } as Track);
        if (fresh.id === current) await attach(fresh, at);
      }, 500 * 2 ** retries.current);
    };
    audio.addEventListener('timeupdate', onTime);
    audio.addEventListener('durationchange', onDuration);
    audio.addEventListener('play', onPlay);
    audio.addEventListener('pause', onPause);
    audio.addEventListener('waiting', onWaiting);
    audio.addEventListener('playing', onPlaying);
    audio.addEventListener('ended', onEnded);
    audio.addEventListener('error', onError);
    return () => {
      audio.removeEventListener('timeupdate', onTime);
      audio.removeEventListener('durationchange', onDuration);
      audio.removeEventListener('play', onPlay);
      audio.removeEventListener('pause', onPause);
      audio.removeEventListener('waiting', onWaiting);
      audio.removeEventListener('playing', onPlaying);
      audio.removeEventListener('ended', onEnded);
      audio.removeEventListener('error', onError);
    };
  }, [attach, freshTrack]);

  // Keyboard shortcuts: Space/K play-pause, ←/→ 5 s, Shift+←/→ previous/next, M mute.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const onButton = (e.target as HTMLElement | null)?.tagName === 'BUTTON';
      const audio = audioRef.current;
      if ((e.key === ' ' && !onButton) || e.key === 'k') {
        e.preventDefault();
        toggle();
      } else if (e.key === 'ArrowRight' && e.shiftKey) next();
      else if (e.key === 'ArrowLeft' && e.shiftKey) previous();
      else if (e.key === 'ArrowRight' && audio && !isRangeInput(e.target)) seek(audio.currentTime + 5);
      else if (e.key === 'ArrowLeft' && audio && !isRangeInput(e.target)) seek(audio.currentTime - 5);
      else if (e.key === 'm') setMuted((m) => !m);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [toggle, next, previous, seek]);

  // Media Session: lock screen, headset buttons and OS media keys.
  useEffect(() => {
    if (!('mediaSession' in navigator) || !track) return;
    const ms = navigator.mediaSession;
    try {
      ms.metadata = new MediaMetadata({
        title: track.title,
        artist: track.artist || track.owner.username,
        album: track.album,
        artwork: track.cover_url ? [{ src: track.cover_url, sizes: '512x512', type: 'image/jpeg' }] : [],
      });
      ms.setActionHandler('play', toggle);
      ms.setActionHandler('pause', toggle);
      ms.setActionHandler('nexttrack', next);
      ms.setActionHandler('previoustrack', previous);
      ms.setActionHandler('seekto', (d) => d.seekTime !== undefined && seek(d.seekTime));
      ms.setActionHandler('seekbackward', () => seek((audioRef.current?.currentTime ?? 0) - 10));
      ms.setActionHandler('seekforward', () => seek((audioRef.current?.currentTime ?? 0) + 10));
    } catch {
      /* older browsers lack some actions */
    }
  }, [track, toggle, next, previous, seek]);

  useEffect(() => {
    if (!('mediaSession' in navigator)) return;
    navigator.mediaSession.playbackState = playing ? 'playing' : 'paused';
    if (duration > 0 && position <= duration) {
      try {
        navigator.mediaSession.setPositionState({ duration, position, playbackRate: 1 });
      } catch {
        /* ignore */
      }
    }
  }, [playing, position, duration]);

  const value = useMemo<PlayerState>(
    () => ({
      queue,
      track,
      playing,
      buffering,
      position,
      duration,
      volume,
      muted,
      error,
      play,
      toggle,
      seek,
      seekFraction,
      next,
      previous,
      enqueue: (t) => setQueue((q) => Q.enqueue(q, t)),
      removeFromQueue: (i) => setQueue((q) => Q.removeAt(q, i)),
      jumpTo: (i) => {
        wantPlay.current = true;
        setQueue((q) => (i >= 0 && i < q.tracks.length ? { ...q, index: i } : q));
      },
      setVolume,
      toggleMute: () => setMuted((m) => !m),
    }),
    [queue, track, playing, buffering, position, duration, volume, muted, error, play, toggle, seek, seekFraction, next, previous, setVolume],
  );

  return (
    <PlayerContext.Provider value={value}>
      {children}
      <audio ref={audioRef} id="veza-audio" preload="metadata" data-testid="audio" />
    </PlayerContext.Provider>
  );
}

function isRangeInput(target: EventTarget | null): boolean {
  return (target as HTMLInputElement | null)?.type === 'range';
}

export function usePlayer(): PlayerState {
  const ctx = useContext(PlayerContext);
  if (!ctx) throw new Error('usePlayer outside PlayerProvider');
  return ctx;
}
