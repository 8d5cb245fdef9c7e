/**
 * Pure helpers of the data layer: formatting, status classes, and the numbers
 * behind the sparkline. No JupyterLab imports, so the unit tests run in node.
 */
import { IInterimResult, IJob, ISession, JOB_FINAL_STATES } from './types';

/** Placeholder for a value that is unknown or not applicable. */
export const NONE = '—';

/**
 * Format a duration in seconds for a narrow column: "850 ms", "12.3 s",
 * "4m 05s", "2h 07m", "3d 04h".
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) {
    return NONE;
  }
  const s = Math.max(0, seconds);
  if (s < 1) {
    return `${Math.round(s * 1000)} ms`;
  }
  if (s < 10) {
    return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  }
  if (s < 60) {
    return `${Math.floor(s)} s`;
  }
  const total = Math.floor(s);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (total < 3600) {
    return `${Math.floor(total / 60)}m ${pad(total % 60)}s`;
  }
  if (total < 86400) {
    return `${Math.floor(total / 3600)}h ${pad(Math.floor((total % 3600) / 60))}m`;
  }
  return `${Math.floor(total / 86400)}d ${pad(Math.floor((total % 86400) / 3600))}h`;
}

/**
 * How long a job has run: its recorded duration when final, the time since
 * it started while it runs, nothing while it is queued.
 */
export function jobDuration(job: IJob, now: number): number | null {
  if (job.duration !== null && job.duration !== undefined) {
    return job.duration;
  }
  if (job.started !== null && job.started !== undefined) {
    const end = job.finished ?? now;
    return Math.max(0, end - job.started);
  }
  return null;
}

/**
 * Seconds a session has left before its max_time, `sinceListing` seconds after the
 * server computed `remaining`. The clock runs only once its first job has started
 * (as on IBM Quantum), so an unused session keeps all of it.
 */
export function sessionTimeLeft(
  session: Pick<ISession, 'remaining' | 'started'>,
  sinceListing: number
): number | null {
  if (session.remaining === null || session.remaining === undefined) {
    return null;
  }
  if (session.started === null || session.started === undefined) {
    return session.remaining;
  }
  return Math.max(0, session.remaining - sinceListing);
}

/** Whether a job can still be cancelled. */
export function isActive(status: string): boolean {
  return status === 'QUEUED' || status === 'RUNNING';
}

/** Whether a job has reached a final state. */
export function isFinal(status: string): boolean {
  return JOB_FINAL_STATES.includes(status);
}

/** CSS class of a job status; unknown statuses get a neutral class. */
export function statusClass(status: string | null | undefined): string {
  switch ((status ?? '').toUpperCase()) {
    case 'QUEUED':
      return 'qrt-status-queued';
    case 'RUNNING':
      return 'qrt-status-running';
    case 'DONE':
      return 'qrt-status-done';
    case 'ERROR':
      return 'qrt-status-error';
    case 'CANCELLED':
      return 'qrt-status-cancelled';
    default:
      return 'qrt-status-unknown';
  }
}

/** A one-character glyph of a job status, shown beside its colour. */
export function statusGlyph(status: string | null | undefined): string {
  switch ((status ?? '').toUpperCase()) {
    case 'QUEUED':
      return '◷';
    case 'RUNNING':
      return '▶';
    case 'DONE':
      return '✔';
    case 'ERROR':
      return '✖';
    case 'CANCELLED':
      return '⊘';
    default:
      return '?';
  }
}

/** What a job runs: its primitive, else its program, else its kind. */
export function jobLabel(job: Pick<IJob, 'primitive' | 'program' | 'kind'>): string {
  return job.primitive || job.program || job.kind || NONE;
}

/** The first characters of an id, enough to tell jobs apart in a list. */
export function shortId(id: string, length = 8): string {
  return id.length > length ? id.slice(0, length) : id;
}

/** Order in which job counts of a session are shown. */
const COUNT_ORDER = ['RUNNING', 'QUEUED', 'DONE', 'ERROR', 'CANCELLED'];

/** "1 running · 3 done" from {RUNNING: 1, DONE: 3}; "no jobs" when empty. */
export function formatJobCounts(counts: Record<string, number> | null | undefined): string {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n > 0);
  if (entries.length === 0) {
    return 'no jobs';
  }
  const rank = (s: string) => {
    const i = COUNT_ORDER.indexOf(s.toUpperCase());
    return i < 0 ? COUNT_ORDER.length : i;
  };
  entries.sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
  return entries.map(([s, n]) => `${n} ${s.toLowerCase()}`).join(' · ');
}

/** Text of the status bar item. */
export function runningLabel(running: number | null | undefined): string {
  return `⚛ ${running ?? 0} running`;
}

/** A numeric series picked out of a job's interim results. */
export interface INumericSeries {
  /** The field the numbers come from; `null` when the values are bare numbers. */
  field: string | null;
  values: number[];
}

function isNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * The series the sparkline shows: "energy" when the interim values have it,
 * else the first numeric field of the first value that has one; bare numeric
 * values are a series of their own. Values lacking the field are skipped.
 */
export function pickNumericSeries(
  interim: ReadonlyArray<Pick<IInterimResult, 'value'>>
): INumericSeries {
  if (interim.some(r => isNumber(r.value))) {
    return { field: null, values: interim.map(r => r.value).filter(isNumber) };
  }
  const records = interim
    .map(r => r.value)
    .filter((v): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v));
  let field: string | null = null;
  if (records.some(r => isNumber(r.energy))) {
    field = 'energy';
  } else {
    for (const r of records) {
      const key = Object.keys(r).find(k => isNumber(r[k]));
      if (key !== undefined) {
        field = key;
        break;
      }
    }
  }
  if (field === null) {
    return { field: null, values: [] };
  }
  const name = field;
  return { field, values: records.map(r => r[name]).filter(isNumber) };
}

/**
 * SVG path data ("M x y L x y ...") drawing `values` as a line inside a
 * `width` x `height` box with `pad` pixels of margin; larger values are
 * higher. Empty for no values; a single value or a constant series is drawn
 * as a flat line through the middle. Non-finite values are dropped.
 */
export function sparklinePath(
  values: ReadonlyArray<number>,
  width: number,
  height: number,
  pad = 2
): string {
  const ys = values.filter(v => Number.isFinite(v));
  if (ys.length === 0) {
    return '';
  }
  const round = (v: number) => Math.round(v * 100) / 100;
  const left = pad;
  const right = width - pad;
  const top = pad;
  const bottom = height - pad;
  const min = Math.min(...ys);
  const max = Math.max(...ys);
  const span = max - min;
  const y = (v: number) => (span === 0 ? (top + bottom) / 2 : bottom - ((v - min) / span) * (bottom - top));
  if (ys.length === 1) {
    const yy = round(y(ys[0]));
    return `M ${round(left)} ${yy} L ${round(right)} ${yy}`;
  }
  const step = (right - left) / (ys.length - 1);
  return ys
    .map((v, i) => `${i === 0 ? 'M' : 'L'} ${round(left + i * step)} ${round(y(v))}`)
    .join(' ');
}

/** Format a number of the series for the min/last labels. */
export function formatNumber(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) {
    return NONE;
  }
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) {
    return v.toExponential(3);
  }
  return String(Math.round(v * 1e4) / 1e4);
}

/** A local time of day for a UNIX timestamp in seconds. */
export function formatClock(at: number | null | undefined): string {
  if (at === null || at === undefined || !Number.isFinite(at)) {
    return NONE;
  }
  const d = new Date(at * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Merge newly fetched interim results into those already known, in order of
 * their sequence number, without duplicates.
 */
export function mergeInterim(
  known: ReadonlyArray<IInterimResult>,
  fresh: ReadonlyArray<IInterimResult>
): IInterimResult[] {
  const bySeq = new Map<number, IInterimResult>();
  for (const r of known) {
    bySeq.set(r.seq, r);
  }
  for (const r of fresh) {
    bySeq.set(r.seq, r);
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
