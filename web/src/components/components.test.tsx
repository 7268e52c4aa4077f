import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRouter } from 'react-router-dom';
import type { Track } from '../api/types';
import { PlayerProvider, usePlayer } from '../state/player';
import { PlayerBar } from './PlayerBar';
import { TrackRows } from './TrackList';

const track = (id: string, state: Track['state'] = 'ready'): Track =>
  ({ id, title: `Song ${id}`, artist: '', owner: { id: 'o', username: 'maker' }, state, progress: 0.5, duration_ms: 61000, visibility: 'public', stream_url: `/s/${id}` }) as Track;

function Harness({ tracks }: { tracks: Track[] }) {
  return (
    <MemoryRouter>
      <PlayerProvider>
        <TrackRows tracks={tracks} />
        <PlayerBar />
        <Probe />
      </PlayerProvider>
    </MemoryRouter>
  );
}

function Probe() {
  const p = usePlayer();
  return <output data-testid="probe">{`${p.queue.index}/${p.queue.tracks.length}`}</output>;
}

describe('track rows and player bar', () => {
  afterEach(cleanup);

  it('lists tracks; only ready ones can be played', () => {
    render(<Harness tracks={[track('a'), track('b', 'processing')]} />);
    expect(screen.getByRole('button', { name: 'Play Song a' })).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Play Song b' })).toBeDisabled();
    expect(screen.getByText('Processing 50%')).toBeInTheDocument();
    expect(screen.getAllByText('1:01')).toHaveLength(2);
  });

  it('playing a row puts its list in the queue and shows the player bar', () => {
    render(<Harness tracks={[track('a'), track('b')]} />);
    expect(screen.queryByRole('region', { name: 'Player' })).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Play Song b' }));
    expect(screen.getByTestId('probe').textContent).toBe('1/2');
    const bar = screen.getByRole('region', { name: 'Player' });
    expect(bar).toHaveTextContent('Song b');
    fireEvent.click(screen.getByRole('button', { name: 'Queue' }));
    expect(screen.getByRole('dialog', { name: 'Play queue' })).toHaveTextContent('Song a');
    fireEvent.click(screen.getByRole('button', { name: 'Remove Song a from the queue' }));
    expect(screen.getByTestId('probe').textContent).toBe('0/1');
  });
});
