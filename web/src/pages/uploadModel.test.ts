import { describe, expect, it } from 'vitest';
import { passwordStrength } from './Auth';
import { formatBytes, looksLikeAudio, phaseLabel, titleFromFilename } from './uploadModel';

describe('upload helpers', () => {
  it('titles from filenames', () => {
    expect(titleFromFilename('01 - Night Drive (final).wav')).toBe('Night Drive (final)');
    expect(titleFromFilename('my_new_song.flac')).toBe('my new song');
    expect(titleFromFilename('.wav')).toBe('Untitled');
  });

  it('recognises audio by type or extension', () => {
    expect(looksLikeAudio({ name: 'x.bin', type: 'audio/x-wav' })).toBe(true);
    expect(looksLikeAudio({ name: 'take.FLAC', type: '' })).toBe(true);
    expect(looksLikeAudio({ name: 'cover.jpg', type: 'image/jpeg' })).toBe(false);
  });

  it('formats sizes and phases', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3.4 * 1024 * 1024)).toBe('3.4 MB');
    expect(phaseLabel('uploading', 42)).toBe('Uploading 42%');
    expect(phaseLabel('ready', 100)).toBe('Ready');
  });

  it('rates passwords', () => {
    expect(passwordStrength('abc').score).toBe(0);
    expect(passwordStrength('correct horse battery 42').score).toBeGreaterThanOrEqual(3);
  });
});
