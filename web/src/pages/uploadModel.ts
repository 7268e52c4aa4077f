// Pure helpers of the upload page (unit-tested).
export const AUDIO_EXTENSIONS = ['wav', 'flac', 'mp3', 'ogg', 'opus', 'm4a', 'aac', 'aif', 'aiff', 'wv', 'webm', 'mka', 'caf', 'ape'];

// "01 - Night Drive (final).wav" → "Night Drive (final)"
export function titleFromFilename(name: string): string {
  let base = name.replace(/\.[^./]{1,5}$/, '');
  base = base.replace(/^\s*\d{1,3}\s*[-._)]\s*/, '');
  base = base.replace(/[_]+/g, ' ').replace(/\s+/g, ' ').trim();
  return base.slice(0, 200) || 'Untitled';
}

export function looksLikeAudio(file: { name: string; type: string }): boolean {
  if (file.type.startsWith('audio/')) return true;
  const ext = file.name.split('.').pop()?.toLowerCase() ?? '';
  return AUDIO_EXTENSIONS.includes(ext);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export type UploadPhase = 'queued' | 'uploading' | 'paused' | 'processing' | 'ready' | 'failed';

export function phaseLabel(phase: UploadPhase, percent: number): string {
  switch (phase) {
    case 'queued':
      return 'Waiting';
    case 'uploading':
      return `Uploading ${percent}%`;
    case 'paused':
      return 'Paused';
    case 'processing':
      return `Processing ${percent}%`;
    case 'ready':
      return 'Ready';
    case 'failed':
      return 'Failed';
  }
}
