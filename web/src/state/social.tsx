// What the signed-in user follows, likes and reposted, so buttons everywhere show the right
// state and change at once (optimistic), then settle on the server's answer or roll back.
// The server's own answers win when a page has them (a track's counts carry liked/reposted, a
// profile carries followed_by_me: noteFollowing); the first 100 follows and likes read once per
// sign-in cover lists and cards.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import type { FollowPage, TrackCounts, TrackPage } from '../api/types';
import { useAuth } from './auth';

interface SocialState {
  following: ReadonlySet<string>; // usernames
  liked: ReadonlySet<string>; // track ids
  reposted: ReadonlySet<string>; // track ids
  follow(username: string, on: boolean): Promise<void>;
  noteFollowing(username: string, on: boolean): void;
  like(trackId: string, on: boolean): Promise<TrackCounts | null>;
  repost(trackId: string, on: boolean): Promise<TrackCounts | null>;
}

const SocialContext = createContext<SocialState | null>(null);

export function useSocial(): SocialState {
  const s = useContext(SocialContext);
  if (!s) throw new Error('useSocial outside SocialProvider');
  return s;
}

export function toggled(set: ReadonlySet<string>, key: string, on: boolean): Set<string> {
  const next = new Set(set);
  if (on) next.add(key);
  else next.delete(key);
  return next;
}

export function SocialProvider({ children }: { children: ReactNode }) {
  const { user } = useAuth();
  const [following, setFollowing] = useState<ReadonlySet<string>>(new Set());
  const [liked, setLiked] = useState<ReadonlySet<string>>(new Set());
  const [reposted, setReposted] = useState<ReadonlySet<string>>(new Set());
  const username = user?.username;
  // What this tab changed while the first lists were on their way: a list that arrives late must
  // not undo a follow or like made in the meantime.
  const touched = useRef({ following: new Map<string, boolean>(), liked: new Map<string, boolean>() });

  useEffect(() => {
    setFollowing(new Set());
    setLiked(new Set());
    setReposted(new Set());
    touched.current = { following: new Map(), liked: new Map() };
    if (!username) return;
    let live = true;
    const me = encodeURIComponent(username);
    const withLocal = (fetched: string[], local: Map<string, boolean>) => {
      const next = new Set(fetched);
      for (const [key, on] of local) {
        if (on) next.add(key);
        else next.delete(key);
      }
      return next;
    };
    api<FollowPage>(`/api/v1/users/${me}/following?limit=100`)
      .then((p) => live && setFollowing(withLocal(p.users.map((u) => u.username), touched.current.following)))
      .catch(() => undefined);
    api<TrackPage>(`/api/v1/users/${me}/likes?limit=100`)
      .then((p) => live && setLiked(withLocal(p.tracks.map((t) => t.id), touched.current.liked)))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [username]);

  const follow = useCallback(async (who: string, on: boolean) => {
    touched.current.following.set(who, on);
    setFollowing((s) => toggled(s, who, on));
    try {
      await api(`/api/v1/users/${encodeURIComponent(who)}/follow`, { method: on ? 'PUT' : 'DELETE' });
    } catch (e) {
      touched.current.following.set(who, !on);
      setFollowing((s) => toggled(s, who, !on));
      throw e;
    }
  }, []);

  const noteFollowing = useCallback(
    (who: string, on: boolean) => {
      touched.current.following.set(who, on);
      setFollowing((s) => (s.has(who) === on ? s : toggled(s, who, on)));
    },
    [],
  );

  const counted = useCallback(
    async (what: 'like' | 'repost', set: typeof setLiked, trackId: string, on: boolean) => {
      if (set === setLiked) touched.current.liked.set(trackId, on);
      set((s) => toggled(s, trackId, on));
      try {
        return await api<TrackCounts>(`/api/v1/tracks/${trackId}/${what}`, { method: on ? 'PUT' : 'DELETE' });
      } catch (e) {
        if (set === setLiked) touched.current.liked.set(trackId, !on);
        set((s) => toggled(s, trackId, !on));
        throw e;
      }
    },
    [],
  );

  const value = useMemo<SocialState>(
    () => ({
      following,
      liked,
      reposted,
      follow,
      noteFollowing,
      like: (id, on) => counted('like', setLiked, id, on),
      repost: (id, on) => counted('repost', setReposted, id, on),
    }),
    [following, liked, reposted, follow, noteFollowing, counted],
  );
  return <SocialContext.Provider value={value}>{children}</SocialContext.Provider>;
}
