import { describe, expect, it } from 'vitest';
import type { Notification } from '../api/types';
import { addLiveNotification } from './live';
import { describe as describeN, linkFor, mergeNotifications } from './notifications';

const n = (id: string, over: Partial<Notification> = {}): Notification => ({
  id,
  kind: 'like',
  actor: 'u1',
  object_type: 'track',
  object_id: 't1',
  room: null,
  text: '',
  created_at: 1,
  read_at: null,
  ...over,
});

describe('notifications', () => {
  it('counts a live notification once, and only while unread', () => {
    let r = addLiveNotification([], n('01'));
    expect(r.added).toBe(true);
    r = addLiveNotification(r.recent, n('01'));
    expect(r.added).toBe(false);
    expect(r.recent).toHaveLength(1);
    expect(addLiveNotification(r.recent, n('02', { read_at: 5 })).added).toBe(false);
  });
  it('reads as a sentence with the names it knows', () => {
    const known = { users: { u1: 'Alice' }, tracks: { t1: 'Night Drive' }, rooms: { r1: 'beats' } };
    expect(describeN(n('1'), known)).toMatchObject({ who: 'Alice', what: 'liked “Night Drive”' });
    expect(describeN(n('1', { actor: 'u9', kind: 'follow', object_type: 'user' }), known)).toMatchObject({ who: 'Someone', what: 'started following you' });
    expect(describeN(n('1', { actor: 'u9', actor_username: 'zoe', kind: 'follow', object_type: 'user' }), known)).toMatchObject({ who: 'zoe' });
    expect(describeN(n('1', { kind: 'mention', object_type: 'message', room: 'r1' }), known).what).toBe('mentioned you in #beats');
    expect(describeN(n('1', { kind: 'brand_new_kind', actor: null }), known)).toMatchObject({ who: 'Veza', what: 'brand_new_kind' });
    expect(describeN(n('1', { kind: 'takedown', actor: null }), known)).toMatchObject({ who: 'Veza moderation', what: 'took down “Night Drive”' });
    expect(describeN(n('1', { kind: 'restore', actor: null, object_id: 't2' }), known)).toMatchObject({ what: 'restored your track' });
  });
  it('links to the room, track or playlist', () => {
    expect(linkFor(n('1', { room: 'r1', object_type: 'message' }))).toBe('/chat/r1');
    expect(linkFor(n('1'))).toBe('/tracks/t1');
    expect(linkFor(n('1', { object_type: 'playlist', object_id: 'p1' }))).toBe('/playlists/p1');
    expect(linkFor(n('1', { object_type: 'user' }))).toBeNull();
  });
  it('merges pages and live ones newest first without repeats', () => {
    const merged = mergeNotifications([n('0193a'), n('0193c')], [n('0193b'), n('0193c', { read_at: 9 })]);
    expect(merged.map((x) => x.id)).toEqual(['0193c', '0193b', '0193a']);
    expect(merged[0].read_at).toBe(9);
  });
});

describe('names seen in this tab', () => {
  it('remembers display names by id and keeps them in session storage', async () => {
    const { rememberUsers, knownName } = await import('./names');
    rememberUsers([{ id: 'u7', username: 'bob', display_name: '' }, { user_id: 'u8', username: 'carol', display_name: 'Carol C.' }]);
    expect(knownName('u7')).toBe('bob');
    expect(knownName('u8')).toBe('Carol C.');
    expect(JSON.parse(sessionStorage.getItem('veza-names') ?? '{}').u7).toBe('bob');
  });
});
