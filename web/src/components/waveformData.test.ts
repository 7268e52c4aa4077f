import { describe, expect, it } from 'vitest';
import { bucketPeaks, isWaveform, placeholderPeaks } from './waveformData';

describe('waveform data', () => {
  it('buckets peaks by maximum', () => {
    expect(bucketPeaks([0.1, 0.9, 0.2, 0.4], 2)).toEqual([0.9, 0.4]);
    expect(bucketPeaks([0.5], 3)).toEqual([0.5, 0.5, 0.5]);
    expect(bucketPeaks([], 10)).toEqual([]);
    expect(bucketPeaks([2, -1], 2)).toEqual([1, 0]);
  });

  it('checks the server shape', () => {
    expect(isWaveform({ version: 1, points: 2, peaks: [0, 1] })).toBe(true);
    expect(isWaveform({ peaks: ['x'] })).toBe(false);
    expect(isWaveform(null)).toBe(false);
  });

  it('placeholder is stable per id and within 0..1', () => {
    const a = placeholderPeaks('abc');
    expect(a).toEqual(placeholderPeaks('abc'));
    expect(a).not.toEqual(placeholderPeaks('abd'));
    expect(a.every((p) => p >= 0 && p <= 1)).toBe(true);
  });
});
