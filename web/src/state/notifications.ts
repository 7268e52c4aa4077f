// How a notification reads and where it leads. Notifications name their actor
// (actor_username, docs/websocket.md); a display name the client already knows wins; tracks are
// named by their title when it is known.
import type { Notification } from '../api/types';

export interface Known {
  users: Record<string, string>; // user id → display name
  tracks: Record<string, string>; // track id → title
  rooms: Record<string, string>; // room id → name
}

export function describe(n: Notification, known: Known): { who: string; what: string; icon: string } {
  const who = (n.actor && known.users[n.actor]) || n.actor_username || (n.actor ? 'Someone' : 'Veza');
  const track = known.tracks[n.object_id] ? `“${known.tracks[n.object_id]}”` : 'your track';
  const room = n.room && known.rooms[n.room] ? `#${known.rooms[n.room]}` : 'a room';
  switch (n.kind) {
    case 'follow':
      return { who, what: 'started following you', icon: 'user' };
    case 'like':
      return { who, what: `liked ${track}`, icon: 'heart' };
    case 'repost':
      return { who, what: `reposted ${track}`, icon: 'repeat' };
    case 'comment':
      return { who, what: `commented on ${known.tracks[n.object_id] ? track : 'a track'}`, icon: 'comment' };
    case 'playlist':
      return { who, what: n.object_type === 'playlist' ? 'invited you to edit a playlist' : `added ${track} to a playlist`, icon: 'list' };
    case 'mention':
      return { who, what: `mentioned you in ${room}`, icon: 'chat' };
    case 'reply':
      return { who, what: `replied to you in ${room}`, icon: 'reply' };
    case 'dm':
      return { who, what: 'sent you a message', icon: 'chat' };
    case 'invite':
      return { who, what: `added you to ${room}`, icon: 'hash' };
    // From the moderators, who stay unnamed; the text holds the reason.
    case 'takedown':
      return { who: 'Veza moderation', what: `took down ${track}`, icon: 'alert' };
    case 'restore':
      return { who: 'Veza moderation', what: `restored ${track}`, icon: 'check' };
    default:
      return { who, what: n.kind, icon: 'bell' };
  }
}

export function linkFor(n: Notification): string | null {
  if (n.room) return `/chat/${n.room}`;
  if (n.object_type === 'track') return `/tracks/${n.object_id}`;
  if (n.object_type === 'playlist') return `/playlists/${n.object_id}`;
  return null;
}

export function mergeNotifications(a: Notification[], b: Notification[]): Notification[] {
  const byId = new Map<string, Notification>();
  for (const n of [...a, ...b]) byId.set(n.id, { ...byId.get(n.id), ...n });
  // Ids are UUIDv7: newest first is descending id order.
  return [...byId.values()].sort((x, y) => (x.id < y.id ? 1 : x.id > y.id ? -1 : 0));
}
