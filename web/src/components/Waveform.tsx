import { useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import type { Track } from '../api/types';
import { formatTime } from '../state/queue';
import { bucketPeaks, loadPeaks, placeholderPeaks } from './waveformData';

interface Props {
  track: Track;
  // 0..1 of the track played, when it is the one loaded in the player.
  progress: number;
  duration: number;
  onSeek(fraction: number): void;
  height?: number;
  // Drawn under the waveform (timestamped comments).
  children?: React.ReactNode;
}

function cssVar(el: Element, name: string): string {
  return getComputedStyle(el).getPropertyValue(name).trim() || '#888';
}

export function WaveformView({ track, progress, duration, onSeek, height = 96, children }: Props) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const [peaks, setPeaks] = useState<number[] | null>(null);
  const [hover, setHover] = useState<number | null>(null);
  const [width, setWidth] = useState(0);

  useEffect(() => {
    let live = true;
    setPeaks(null);
    loadPeaks(track).then((p) => live && setPeaks(p));
    return () => {
      live = false;
    };
  }, [track]);

  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !width) return;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const barWidth = 3;
    const gap = 2;
    const bars = Math.max(1, Math.floor(width / (barWidth + gap)));
    const values = bucketPeaks(peaks ?? placeholderPeaks(track.id), bars);
    const played = cssVar(canvas, '--accent');
    const rest = cssVar(canvas, '--wave');
    const hoverColor = cssVar(canvas, '--wave-hover');
    const mid = height * 0.62;
    for (let i = 0; i < bars; i++) {
      const x = i * (barWidth + gap);
      const f = (i + 0.5) / bars;
      const v = Math.max(0.04, values[i]);
      ctx.fillStyle = f <= progress ? played : hover !== null && f <= hover ? hoverColor : rest;
      ctx.globalAlpha = peaks ? 1 : 0.45;
      const up = v * mid * 0.95;
      ctx.fillRect(x, mid - up, barWidth, up);
      // A shorter mirror below, as a reflection.
      ctx.globalAlpha = (peaks ? 1 : 0.45) * 0.35;
      ctx.fillRect(x, mid + 1, barWidth, v * (height - mid) * 0.9);
    }
    ctx.globalAlpha = 1;
  }, [peaks, progress, hover, width, height, track.id]);

  const fractionAt = (e: MouseEvent) => {
    const r = e.currentTarget.getBoundingClientRect();
    return Math.max(0, Math.min(1, (e.clientX - r.left) / r.width));
  };

  const onKey = (e: KeyboardEvent) => {
    const step = duration > 0 ? 5 / duration : 0.02;
    if (e.key === 'ArrowRight') onSeek(Math.min(1, progress + step));
    else if (e.key === 'ArrowLeft') onSeek(Math.max(0, progress - step));
    else if (e.key === 'Home') onSeek(0);
    else if (e.key === 'End') onSeek(0.999);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <div className="waveform-wrap">
    <div
      ref={wrapRef}
      className="waveform"
      role="slider"
      tabIndex={0}
      aria-label={`Seek in ${track.title}`}
      aria-valuemin={0}
      aria-valuemax={Math.round(duration)}
      aria-valuenow={Math.round(progress * duration)}
      aria-valuetext={`${formatTime(progress * duration)} of ${formatTime(duration)}`}
      data-state={peaks ? 'peaks' : 'placeholder'}
      data-testid="waveform"
      onClick={(e) => onSeek(fractionAt(e))}
      onMouseMove={(e) => setHover(fractionAt(e))}
      onMouseLeave={() => setHover(null)}
      onKeyDown={onKey}
      style={{ height }}
    >
      <canvas ref={canvasRef} style={{ width: '100%', height }} />
      {hover !== null && duration > 0 && (
        <span className="waveform-tip" style={{ left: `${hover * 100}%` }}>
          {formatTime(hover * duration)}
        </span>
      )}
    </div>
    {children}
    </div>
  );
}
