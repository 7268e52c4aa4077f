import { useEffect } from 'react';
import { useTitle } from '../state/useTitle';
import { Link } from 'react-router-dom';
import { Empty, TrackRows } from '../components/TrackList';
import { useTrackPages } from './Home';

export function Library() {
  useTitle('Your tracks');
  const mine = useTrackPages('/api/v1/users/me/tracks');
  const processing = mine.tracks.some((t) => t.state === 'uploaded' || t.state === 'processing');
  useEffect(() => {
    if (!processing) return;
    const id = window.setInterval(mine.reload, 3000);
    return () => window.clearInterval(id);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [processing]);
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <p className="eyebrow">Library</p>
          <h1>Your tracks</h1>
        </div>
        <Link to="/upload" className="btn">
          Upload
        </Link>
      </div>
      {mine.error && <p className="error-text" role="alert">{mine.error}</p>}
      {!mine.loading && !mine.tracks.length ? (
        <Empty icon="upload" title="No uploads yet">
          <p className="muted">Drop your first track on the upload page.</p>
        </Empty>
      ) : (
        <TrackRows tracks={mine.tracks} />
      )}
      {mine.more && (
        <button className="btn ghost load-more" onClick={mine.more}>
          Load more
        </button>
      )}
    </div>
  );
}
