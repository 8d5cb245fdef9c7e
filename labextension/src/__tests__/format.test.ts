import { describe, expect, it } from 'vitest';

import {
  formatDuration,
  formatJobCounts,
  formatNumber,
  isActive,
  isFinal,
  jobDuration,
  jobLabel,
  mergeInterim,
  NONE,
  pickNumericSeries,
  runningLabel,
  sessionTimeLeft,
  shortId,
  sparklinePath,
  statusClass,
  statusGlyph
} from '../format';
import { IJob } from '../types';

function job(overrides: Partial<IJob> = {}): IJob {
  return {
    id: 'job-0123456789',
    session_id: null,
    kind: 'primitive',
    program: null,
    primitive: 'estimator',
    backend: 'aer_simulator',
    status: 'DONE',
    created: 100,
    started: 101,
    finished: 103.5,
    duration: 2.5,
    tags: [],
    error: null,
    cancel_requested: false,
    ...overrides
  };
}

describe('formatDuration', () => {
  it.each([
    [null, NONE],
    [undefined, NONE],
    [Number.NaN, NONE],
    [0, '0 ms'],
    [0.85, '850 ms'],
    [1, '1.0 s'],
    [9.99, '9.9 s'],
    [12.7, '12 s'],
    [59.9, '59 s'],
    [60, '1m 00s'],
    [245, '4m 05s'],
    [3600, '1h 00m'],
    [7620, '2h 07m'],
    [86400 + 4 * 3600, '1d 04h'],
    [-5, '0 ms']
  ])('formats %s as %s', (seconds, text) => {
    expect(formatDuration(seconds as number | null | undefined)).toBe(text);
  });
});

describe('jobDuration', () => {
  it('uses the recorded duration of a finished job', () => {
    expect(jobDuration(job(), 1000)).toBe(2.5);
  });
  it('counts from the start while running', () => {
    expect(jobDuration(job({ status: 'RUNNING', duration: null, finished: null }), 111)).toBe(10);
  });
  it('is unknown while queued', () => {
    expect(jobDuration(job({ status: 'QUEUED', duration: null, started: null, finished: null }), 111)).toBeNull();
  });
});

describe('sessionTimeLeft', () => {
  it('counts down once the first job has started', () => {
    expect(sessionTimeLeft({ remaining: 595, started: 2 }, 5)).toBe(590);
    expect(sessionTimeLeft({ remaining: 3, started: 2 }, 5)).toBe(0);
  });
  it('keeps the whole max_time before the first job starts', () => {
    expect(sessionTimeLeft({ remaining: 600, started: null }, 5)).toBe(600);
  });
  it('is unknown without a max_time', () => {
    expect(sessionTimeLeft({ remaining: null, started: 2 }, 5)).toBeNull();
  });
});

describe('statuses', () => {
  it('maps each status to its css class', () => {
    expect(statusClass('QUEUED')).toBe('qrt-status-queued');
    expect(statusClass('RUNNING')).toBe('qrt-status-running');
    expect(statusClass('DONE')).toBe('qrt-status-done');
    expect(statusClass('ERROR')).toBe('qrt-status-error');
    expect(statusClass('CANCELLED')).toBe('qrt-status-cancelled');
    expect(statusClass('done')).toBe('qrt-status-done');
    expect(statusClass('INITIALIZING')).toBe('qrt-status-unknown');
    expect(statusClass(null)).toBe('qrt-status-unknown');
  });
  it('gives every status a distinct glyph', () => {
    const glyphs = ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELLED'].map(statusGlyph);
    expect(new Set(glyphs).size).toBe(5);
    expect(statusGlyph('???')).toBe('?');
  });
  it('knows which jobs can be cancelled and which are final', () => {
    expect(isActive('QUEUED')).toBe(true);
    expect(isActive('RUNNING')).toBe(true);
    expect(isActive('DONE')).toBe(false);
    expect(isFinal('DONE')).toBe(true);
    expect(isFinal('ERROR')).toBe(true);
    expect(isFinal('CANCELLED')).toBe(true);
    expect(isFinal('RUNNING')).toBe(false);
  });
});

describe('labels', () => {
  it('prefers primitive, then program, then kind', () => {
    expect(jobLabel(job())).toBe('estimator');
    expect(jobLabel(job({ primitive: null, program: 'vqe' }))).toBe('vqe');
    expect(jobLabel(job({ primitive: null, program: null, kind: 'program' }))).toBe('program');
    expect(jobLabel(job({ primitive: null, program: null, kind: null }))).toBe(NONE);
  });
  it('shortens ids', () => {
    expect(shortId('abcdef0123456789')).toBe('abcdef01');
    expect(shortId('abc')).toBe('abc');
    expect(shortId('abcdef0123456789', 4)).toBe('abcd');
  });
  it('summarises job counts in a fixed order', () => {
    expect(formatJobCounts({ DONE: 3, RUNNING: 1, QUEUED: 0 })).toBe('1 running · 3 done');
    expect(formatJobCounts({ CANCELLED: 1, ERROR: 2, QUEUED: 4 })).toBe('4 queued · 2 error · 1 cancelled');
    expect(formatJobCounts({})).toBe('no jobs');
    expect(formatJobCounts(null)).toBe('no jobs');
  });
  it('labels the status bar item', () => {
    expect(runningLabel(3)).toBe('⚛ 3 running');
    expect(runningLabel(null)).toBe('⚛ 0 running');
  });
  it('formats numbers compactly', () => {
    expect(formatNumber(-1.857275)).toBe('-1.8573');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(1.5e-5)).toBe('1.500e-5');
    expect(formatNumber(null)).toBe(NONE);
  });
});

describe('pickNumericSeries', () => {
  const r = (value: unknown, seq = 0) => ({ seq, at: 0, value });

  it('prefers energy even when it is not the first field', () => {
    const series = pickNumericSeries([r({ iteration: 1, energy: -1.1 }), r({ iteration: 2, energy: -1.5 })]);
    expect(series).toEqual({ field: 'energy', values: [-1.1, -1.5] });
  });
  it('falls back to the first numeric field', () => {
    const series = pickNumericSeries([r({ name: 'x', cost: 3, step: 1 }), r({ name: 'y', cost: 2, step: 2 })]);
    expect(series).toEqual({ field: 'cost', values: [3, 2] });
  });
  it('skips values without the field and non-finite numbers', () => {
    const series = pickNumericSeries([
      r({ energy: 1 }),
      r({ note: 'checkpoint' }),
      r({ energy: Number.NaN }),
      r(null),
      r({ energy: 0.5 })
    ]);
    expect(series.values).toEqual([1, 0.5]);
  });
  it('takes bare numbers as the series', () => {
    expect(pickNumericSeries([r(3), r(2), r('x'), r(1)])).toEqual({ field: null, values: [3, 2, 1] });
  });
  it('is empty when nothing is numeric', () => {
    expect(pickNumericSeries([r({ a: 'b' }), r([1, 2])])).toEqual({ field: null, values: [] });
    expect(pickNumericSeries([])).toEqual({ field: null, values: [] });
  });
});

describe('sparklinePath', () => {
  it('is empty without values', () => {
    expect(sparklinePath([], 100, 20)).toBe('');
    expect(sparklinePath([Number.NaN], 100, 20)).toBe('');
  });
  it('spans the box, highest value at the top', () => {
    expect(sparklinePath([0, 10, 5], 100, 20, 0)).toBe('M 0 20 L 50 0 L 100 10');
  });
  it('respects the padding', () => {
    expect(sparklinePath([1, 2], 100, 20, 2)).toBe('M 2 18 L 98 2');
  });
  it('draws a constant series flat through the middle', () => {
    expect(sparklinePath([4, 4, 4], 100, 20, 0)).toBe('M 0 10 L 50 10 L 100 10');
  });
  it('draws a single value as a flat line', () => {
    expect(sparklinePath([7], 100, 20, 0)).toBe('M 0 10 L 100 10');
  });
  it('has one point per value and stays inside the box', () => {
    const values = Array.from({ length: 50 }, (_, i) => Math.sin(i / 5) * 3 - i / 10);
    const d = sparklinePath(values, 240, 48, 3);
    const points = d.split(/[ML]/).filter(s => s.trim()).map(s => s.trim().split(' ').map(Number));
    expect(points).toHaveLength(50);
    for (const [x, y] of points) {
      expect(x).toBeGreaterThanOrEqual(3);
      expect(x).toBeLessThanOrEqual(237);
      expect(y).toBeGreaterThanOrEqual(3);
      expect(y).toBeLessThanOrEqual(45);
    }
  });
});

describe('mergeInterim', () => {
  it('keeps sequence order and drops duplicates', () => {
    const a = [0, 1, 2].map(seq => ({ seq, at: seq, value: seq }));
    const b = [2, 3, 4].map(seq => ({ seq, at: seq, value: seq * 10 }));
    const merged = mergeInterim(a, b);
    expect(merged.map(r => r.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(merged[2].value).toBe(20);
    expect(mergeInterim([], [b[1], b[0]]).map(r => r.seq)).toEqual([2, 3]);
  });
});
