import { useEffect, useState } from 'react';
import { useTitle } from '../state/useTitle';
import { useParams } from 'react-router-dom';
import { api, errorMessage } from '../api/client';
import type { PublicProfile } from '../api/types';
import { UserAvatar } from '../components/Art';
import { Empty, TrackCard } from '../components/TrackList';
import { useTrackPages } from './Home';

export function Profile() {
  const { username = '' } = useParams();
  useTitle(username);
  const [profile, setProfile] = useState<PublicProfile | null>(null);
  const [error, setError] = useState('');
  const tracks = useTrackPages(`/api/v1/users/${encodeURIComponent(username)}/tracks`);
  useEffect(() => {
    setProfile(null);
    api<PublicProfile>(`/api/v1/users/${encodeURIComponent(username)}`)
      .then(setProfile)
      .catch((e) => setError(errorMessage(e)));
  }, [username]);
  if (error) return <div className="page"><Empty icon="user" title="No such profile" level={1}><p className="muted">{error}</p></Empty></div>;
  return (
    <div className="page">
      <section className="profile-head">
        <UserAvatar name={username} url={profile?.avatar?.['512']} size={112} />
        <div>
          <p className="eyebrow">Artist</p>
          <h1>{profile?.display_name || username}</h1>
          <p className="muted">@{username}</p>
          {profile?.bio && <p className="bio">{profile.bio}</p>}
          {!!profile?.links.length && (
            <ul className="links">
              {profile.links.map((l) => (
                <li key={l}>
                  <a href={l} rel="noopener noreferrer nofollow" target="_blank">
                    {l.replace(/^https?:\/\//, '')}
                  </a>
                </li>
              ))}
            </ul>
          )}
        </div>
      </section>
      <h2>Tracks</h2>
      {!tracks.loading && !tracks.tracks.length ? (
        <Empty icon="music" title="No public tracks yet" />
      ) : (
        <div className="grid">
          {tracks.tracks.map((t) => (
            <TrackCard key={t.id} track={t} context={tracks.tracks} />
          ))}
        </div>
      )}
    </div>
  );
}
