import { useCallback, useEffect, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useTitle } from '../state/useTitle';
import { flushSync } from 'react-dom';
import { Link } from 'react-router-dom';
import * as tus from 'tus-js-client';
import { api, authHeader, errorMessage } from '../api/client';
import type { Track, Visibility } from '../api/types';
import { Art } from '../components/Art';
import { Icon } from '../components/Icon';
import { usePlayer } from '../state/player';
import { formatBytes, looksLikeAudio, phaseLabel, titleFromFilename, type UploadPhase } from './uploadModel';

interface Item {
  key: string;
  file: File;
  title: string;
  visibility: Visibility;
  phase: UploadPhase;
  sent: number;
  error: string;
  trackId: string | null;
  track: Track | null;
}

const CHUNK = 4 * 1024 * 1024;
let keyCounter = 0;

export function Upload() {
  useTitle('Upload');
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);
  const [visibility, setVisibility] = useState<Visibility>('public');
  const uploads = useRef(new Map<string, tus.Upload>());
  const inputRef = useRef<HTMLInputElement>(null);

  const patch = useCallback((key: string, change: Partial<Item>) => {
    setItems((all) => all.map((i) => (i.key === key ? { ...i, ...change } : i)));
  }, []);

  const start = useCallback(
    (item: Item) => {
      let trackId: string | null = null;
      const upload = new tus.Upload(item.file, {
        endpoint: '/api/v1/uploads',
        chunkSize: CHUNK,
        retryDelays: [0, 1000, 3000, 5000, 10000],
        metadata: {
          filename: item.file.name,
          filetype: item.file.type || 'application/octet-stream',
          // No title: the server takes it from the tags, else from the filename.
          visibility: item.visibility,
        },
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        // The access token may have been refreshed since the upload began.
        async onBeforeRequest(req) {
          const h = await authHeader();
          if (h.Authorization) req.setHeader('Authorization', h.Authorization);
        },
        onAfterResponse(_req, res) {
          const id = res.getHeader('Upload-Track-Id');
          if (id) trackId = id;
        },
        onProgress(sent) {
          // Drawn at once: a fast upload's last progress would otherwise be batched with its
          // success and the bar would never be seen moving.
          flushSync(() => patch(item.key, { sent, phase: 'uploading' }));
        },
        onError(err) {
          const detail = (err as tus.DetailedError).originalResponse?.getBody?.();
          let message = err.message;
          try {
            message = JSON.parse(detail ?? '').detail ?? message;
          } catch {
            /* keep tus's message */
          }
          patch(item.key, { phase: 'failed', error: message });
        },
        onSuccess() {
          patch(item.key, { phase: 'processing', sent: item.file.size, trackId });
        },
      });
      uploads.current.set(item.key, upload);
      patch(item.key, { phase: 'uploading' });
      // Resume a previous attempt of the same file (same browser) instead of starting over.
      upload
        .findPreviousUploads()
        .then((previous) => {
          if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
          upload.start();
        })
        .catch(() => upload.start());
    },
    [patch],
  );

  const addFiles = (files: FileList | File[]) => {
    const fresh: Item[] = [];
    for (const file of Array.from(files)) {
      const ok = looksLikeAudio(file);
      fresh.push({
        key: `u${++keyCounter}`,
        file,
        title: titleFromFilename(file.name),
        visibility,
        phase: ok ? 'queued' : 'failed',
        sent: 0,
        error: ok ? '' : 'Not an audio file',
        trackId: null,
        track: null,
      });
    }
    setItems((all) => [...all, ...fresh]);
    fresh.filter((i) => i.phase === 'queued').forEach(start);
  };

  // Processing state, live: poll each track until it is ready or failed.
  const polling = items.filter((i) => i.phase === 'processing' && i.trackId).map((i) => `${i.key}:${i.trackId}`).join(',');
  useEffect(() => {
    if (!polling) return;
    const timer = window.setInterval(async () => {
      for (const pair of polling.split(',')) {
        const [key, id] = pair.split(':');
        try {
          const t = await api<Track>(`/api/v1/tracks/${id}`);
          patch(key, {
            track: t,
            phase: t.state === 'ready' ? 'ready' : t.state === 'failed' ? 'failed' : 'processing',
            error: t.failure_reason ?? '',
          });
        } catch (e) {
          patch(key, { phase: 'failed', error: errorMessage(e) });
        }
      }
    }, 1000);
    return () => window.clearInterval(timer);
  }, [polling, patch]);

  useEffect(() => {
    const all = uploads.current;
    return () => all.forEach((u) => void u.abort());
  }, []);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
  };

  return (
    <div className="page">
      <div className="page-head">
        <div>
          <p className="eyebrow">Upload</p>
          <h1>Share your sound</h1>
        </div>
        <label className="inline-select">
          New uploads are
          <select value={visibility} onChange={(e) => setVisibility(e.target.value as Visibility)}>
            <option value="public">Public</option>
            <option value="unlisted">Unlisted</option>
            <option value="private">Private</option>
          </select>
        </label>
      </div>

      <div
        className={dragging ? 'dropzone dragging' : 'dropzone'}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
        data-testid="dropzone"
      >
        <div className="drop-icon">
          <Icon name="upload" size={32} />
        </div>
        <h2>Drag and drop audio files here</h2>
        <p className="muted">WAV, FLAC, MP3, Ogg, M4A and more. Several at once. Uploads resume if the connection drops.</p>
        <button className="btn" onClick={() => inputRef.current?.click()}>
          Choose files
        </button>
        <input
          ref={inputRef}
          type="file"
          accept="audio/*,.flac,.wav,.aiff,.aif,.ogg,.opus,.m4a,.wv"
          multiple
          hidden
          data-testid="file-input"
          aria-label="Choose audio files"
          onChange={(e) => {
            if (e.target.files) addFiles(e.target.files);
            e.target.value = '';
          }}
        />
      </div>

      {items.length > 0 && (
        <ul className="upload-list" aria-label="Uploads">
          {items.map((item) => (
            <UploadRow
              key={item.key}
              item={item}
              onPause={() => {
                void uploads.current.get(item.key)?.abort();
                patch(item.key, { phase: 'paused' });
              }}
              onResume={() => {
                uploads.current.get(item.key)?.start();
                patch(item.key, { phase: 'uploading' });
              }}
              onSaved={(t) => patch(item.key, { track: t })}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function UploadRow({ item, onPause, onResume, onSaved }: { item: Item; onPause(): void; onResume(): void; onSaved(t: Track): void }) {
  const player = usePlayer();
  const uploadPercent = item.file.size ? Math.floor((item.sent / item.file.size) * 100) : 0;
  const percent = item.phase === 'processing' ? Math.round((item.track?.progress ?? 0) * 100) : uploadPercent;
  const progressValue = item.phase === 'ready' ? 100 : percent;
  return (
    <li className={`upload-item ${item.phase}`} data-testid="upload-item" data-phase={item.phase}>
      <div className="upload-top">
        <Art track={{ id: item.key + item.file.name, title: item.title }} size={48} />
        <div className="upload-info">
          <strong>{item.track?.title || item.title}</strong>
          <span className="muted small">
            {item.file.name} · {formatBytes(item.file.size)}
          </span>
        </div>
        <span className={`badge ${item.phase}`} data-testid="upload-phase">
          {phaseLabel(item.phase, percent)}
        </span>
        {item.phase === 'uploading' && (
          <button className="btn ghost small" onClick={onPause}>
            Pause
          </button>
        )}
        {item.phase === 'paused' && (
          <button className="btn ghost small" onClick={onResume}>
            Resume
          </button>
        )}
        {item.phase === 'ready' && item.track && (
          <>
            <button className="btn small" onClick={() => player.play(item.track!)}>
              <Icon name="play" size={14} /> Play
            </button>
            <Link className="btn ghost small" to={`/tracks/${item.track.id}`}>
              Open
            </Link>
          </>
        )}
      </div>
      {item.phase !== 'failed' && (
        <div
          className={`progress ${item.phase}`}
          role="progressbar"
          aria-label={`${item.title}: ${phaseLabel(item.phase, percent)}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={progressValue}
          data-testid="upload-progress"
        >
          <span style={{ width: `${progressValue}%` }} />
        </div>
      )}
      {item.error && (
        <p className="error-text" role="alert">
          {item.error}
        </p>
      )}
      {item.track && (item.phase === 'processing' || item.phase === 'ready') && <MetadataForm track={item.track} onSaved={onSaved} />}
    </li>
  );
}

function MetadataForm({ track, onSaved }: { track: Track; onSaved(t: Track): void }) {
  // Pre-filled from the tags the server read (the track's fields), once; edits are the user's.
  const fromTrack = (t: Track) => ({
    title: t.title,
    artist: t.artist,
    album: t.album,
    genre: t.genre,
    year: t.year ? String(t.year) : '',
    description: t.description,
    visibility: t.visibility,
  });
  const [fields, setFields] = useState(() => fromTrack(track));
  const [dirty, setDirty] = useState(false);
  const [status, setStatus] = useState('');
  // Tags are read while the track processes: follow the server until the user types.
  useEffect(() => {
    if (!dirty) setFields(fromTrack(track));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [track.updated_at, track.state, dirty]);
  const set = (k: keyof typeof fields) => (e: { target: { value: string } }) => {
    setDirty(true);
    setFields((f) => ({ ...f, [k]: e.target.value }));
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setStatus('Saving…');
    try {
      const year = fields.year.trim() ? Number(fields.year) : null;
      const t = await api<Track>(`/api/v1/tracks/${track.id}`, {
        method: 'PATCH',
        body: { ...fields, year },
      });
      onSaved(t);
      setDirty(false);
      setStatus('Saved');
    } catch (err) {
      setStatus(errorMessage(err));
    }
  };
  const id = (k: string) => `${track.id}-${k}`;
  return (
    <form className="meta-form" onSubmit={save} aria-label={`Details of ${track.title}`}>
      <label htmlFor={id('title')}>Title</label>
      <input id={id('title')} value={fields.title} onChange={set('title')} required maxLength={200} />
      <label htmlFor={id('artist')}>Artist</label>
      <input id={id('artist')} value={fields.artist} onChange={set('artist')} maxLength={200} />
      <label htmlFor={id('album')}>Album</label>
      <input id={id('album')} value={fields.album} onChange={set('album')} maxLength={200} />
      <label htmlFor={id('genre')}>Genre</label>
      <input id={id('genre')} value={fields.genre} onChange={set('genre')} maxLength={100} />
      <label htmlFor={id('year')}>Year</label>
      <input id={id('year')} value={fields.year} onChange={set('year')} inputMode="numeric" pattern="[0-9]{4}" />
      <label htmlFor={id('visibility')}>Visibility</label>
      <select id={id('visibility')} value={fields.visibility} onChange={set('visibility')}>
        <option value="public">Public</option>
        <option value="unlisted">Unlisted</option>
        <option value="private">Private</option>
      </select>
      <label htmlFor={id('description')} className="span">
        Description
      </label>
      <textarea id={id('description')} className="span" value={fields.description} onChange={set('description')} rows={2} maxLength={5000} />
      <div className="span form-actions">
        <span className="muted small" role="status">
          {status}
        </span>
        <button className="btn small">Save details</button>
      </div>
    </form>
  );
}
