import { describe, expect, it } from 'vitest';
import { expiryText } from './AdminModeration';
import { problemDetails } from '../state/problems';
import { formatBytes, parseMetrics, perSecond } from '../state/metrics';

describe('admin helpers', () => {
  it('shows a logged problem\'s own fields, not the ones in columns', () => {
    expect(problemDetails({ time: '2026-11-26T17:00:00Z', level: 'warn', msg: 'x', user_id: 'u1', status: 502, nested: { a: 1 } })).toBe(
      'user_id=u1 status=502 nested={"a":1}',
    );
    expect(problemDetails({ time: 't', level: 'error', msg: 'only the basics' })).toBe('');
  });

  it('sums Prometheus series over their labels and skips comments', () => {
    const m = parseMetrics(
      [
        '# HELP veza_http_requests_total HTTP requests.',
        '# TYPE veza_http_requests_total counter',
        'veza_http_requests_total{route="/a",method="GET",status="200"} 3',
        'veza_http_requests_total{route="/b",method="GET",status="404"} 2',
        'veza_http_connections_open 7',
        'process_resident_memory_bytes 1.5e+07',
        'broken line',
      ].join('\n'),
    );
    expect(m.get('veza_http_requests_total')).toBe(5);
    expect(m.get('veza_http_connections_open')).toBe(7);
    expect(m.get('process_resident_memory_bytes')).toBe(15_000_000);
    expect(m.has('broken')).toBe(false);
  });
  it('turns two samples of a counter into a rate, never negative', () => {
    expect(perSecond(null, { at: 5000, value: 10 })).toBeUndefined();
    expect(perSecond({ at: 0, value: 10 }, { at: 5000, value: 35 })).toBe(5);
    expect(perSecond({ at: 0, value: 10 }, { at: 5000, value: 3 })).toBe(0);
    expect(perSecond({ at: 5000, value: 1 }, { at: 5000, value: 3 })).toBeUndefined();
  });
  it('formats storage sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2_500_000)).toBe('2.5 MB');
    expect(formatBytes(3_210_000_000)).toBe('3.21 GB');
  });
  it('says when a mute or ban ends', () => {
    const now = 1_764_126_000_000;
    expect(expiryText({ expires_at: null, lifted_at: null, active: true }, now)).toBe('until lifted');
    expect(expiryText({ expires_at: now + 30 * 60_000, lifted_at: null, active: true }, now)).toBe('30 min left');
    expect(expiryText({ expires_at: now + 5 * 3600_000, lifted_at: null, active: true }, now)).toBe('5 h left');
    expect(expiryText({ expires_at: now + 7 * 86400_000, lifted_at: null, active: true }, now)).toBe('7 days left');
    expect(expiryText({ expires_at: now - 1, lifted_at: null, active: false }, now)).toBe('expired');
    expect(expiryText({ expires_at: null, lifted_at: now - 120_000, active: false }, now)).toBe('lifted 2 min ago');
  });
});
