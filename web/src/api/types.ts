// Shapes of the JSON the public API returns (docs/api/openapi.yaml).

export type Role = 'user' | 'moderator' | 'admin' | 'super_admin';

export interface AvatarUrls {
  [size: string]: string;
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  bio: string;
  role: Role;
  email: string;
  email_verified: boolean;
  created_at: number;
  links?: string[];
  avatar?: AvatarUrls | null;
}

export interface PublicProfile {
  id: string;
  username: string;
  display_name: string;
  bio: string;
  links: string[];
  avatar: AvatarUrls | null;
  created_at: number;
  // Counters from the social service (docs/social.md); absent on older servers.
  followers?: number;
  following?: number;
  tracks?: number;
  plays?: number;
  likes?: number;
  followed_by_me?: boolean; // the caller's own follow state (false when signed out)
}

export interface SignedIn {
  token_type: 'Bearer';
  access_token: string;
  access_expires_at: number;
  csrf_token?: string;
  session_id: string;
  user: User;
}

export interface MfaChallenge {
  mfa_required: true;
  mfa_token: string;
}

export type TrackState = 'uploaded' | 'processing' | 'ready' | 'failed';
export type Visibility = 'public' | 'unlisted' | 'private';

export interface Track {
  id: string;
  owner: { id: string; username: string };
  title: string;
  artist: string;
  album: string;
  genre: string;
  year: number | null;
  track_number: number | null;
  description: string;
  visibility: Visibility;
  state: TrackState;
  progress: number;
  duration_ms: number;
  waveform_points: number;
  has_cover: boolean;
  created_at: number;
  updated_at: number;
  failure_reason?: string;
  // Set when a moderator took the track down; only its owner and moderators see such a track.
  taken_down?: { at: number; reason: string };
  stream_url?: string;
  hls_url?: string;
  // Announced by the lead (signed, like stream_url); absent on older servers.
  waveform_url?: string;
  cover_url?: string;
  format?: { container: string; codec: string; sample_rate: number; channels: number; bit_rate: number; lossless: boolean };
  loudness?: { integrated_lufs: number; loudness_range_lu: number; true_peak_dbtp: number; replay_gain_db: number };
}

export interface TrackPage {
  tracks: Track[];
  next_cursor: string | null;
}

export interface Waveform {
  version: number;
  points: number;
  peaks: number[];
}

export interface Session {
  id: string;
  device: string;
  ip: string;
  created_at: number;
  last_used_at: number;
  current: boolean;
}

export interface Room {
  id: string;
  kind: 'public' | 'private' | 'dm' | 'direct';
  name: string;
  topic: string;
  slow_mode_seconds: number;
  last_seq: number;
  created_at: number;
  my_role?: string;
  last_read_seq?: number;
  unread_count?: number;
}

export interface Reaction {
  emoji: string;
  count: number;
  mine: boolean;
}

export interface TrackEmbed {
  type: 'track';
  track_id: string;
  title: string;
  artist: string;
  owner_username: string;
  url: string;
  has_cover: boolean;
}

export interface ChatMessage {
  id: string;
  room: string;
  seq: number;
  sender: string;
  client_id: string;
  body: string;
  created_at: number;
  reply_to?: string | null;
  edited_at?: number | null;
  deleted?: boolean;
  pinned?: boolean;
  reactions?: Reaction[];
  embeds?: TrackEmbed[];
  sender_username?: string;
}

export interface RoomMember {
  user_id: string;
  username: string;
  display_name?: string;
  role: string;
}

export interface AdminUser {
  id: string;
  username: string;
  email: string;
  role: Role;
  suspended: boolean;
  created_at: number;
}

export interface AuditEntry {
  id: string;
  actor_id: string;
  action: string;
  target_type: string;
  target_id: string;
  details: unknown;
  created_at: number;
}

export interface OAuthProvider {
  name: string;
  display_name?: string;
}

export interface UserRef {
  id: string;
  username: string;
  display_name: string;
  since?: number;
}

export interface FollowPage {
  users: UserRef[];
  next_cursor: string | null;
}

export interface TrackCounts {
  likes: number;
  reposts: number;
  comments: number;
  plays: number;
  liked?: boolean; // the caller's own state (false when signed out)
  reposted?: boolean;
}

export interface Comment {
  id: string;
  track_id: string;
  author: UserRef;
  reply_to: string | null;
  body: string;
  at_ms: number;
  created_at: number;
  edited_at: number | null;
}

export interface CommentPage {
  comments: Comment[];
  next_cursor: string | null;
}

export interface Playlist {
  id: string;
  owner: UserRef;
  title: string;
  description: string;
  visibility: 'public' | 'private';
  collaborative: boolean;
  track_count: number;
  may_edit: boolean;
  created_at: number;
  updated_at: number;
}

export interface PlaylistPage {
  playlists: Playlist[];
  next_cursor: string | null;
}

export interface PlaylistItem {
  position: number;
  added_by: string | null;
  added_at: number;
  track: Track;
}

export interface FeedItem {
  id: string;
  kind: 'track' | 'repost';
  actor: UserRef;
  at: number;
  track: Track;
}

export interface FeedPage {
  items: FeedItem[];
  next_cursor: string | null;
}

export interface Notification {
  id: string;
  kind: string;
  actor: string | null;
  actor_username?: string | null; // the actor's username now; null for the system
  object_type: string;
  object_id: string;
  room: string | null;
  text: string;
  created_at: number;
  read_at: number | null;
}

export interface NotificationPage {
  notifications: Notification[];
  next_cursor: string | null;
  unread_count: number;
}

export interface SearchAll {
  tracks: Track[];
  users: UserRef[];
  rooms: { id: string; name: string; topic: string }[];
  playlists: { id: string; name: string; owner: string }[];
}
