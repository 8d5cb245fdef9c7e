/**
 * The "Quantum Runtime" sidebar: open sessions, recent jobs and the detail
 * of the selected job. It only renders the RuntimeModel and forwards clicks.
 */
import { Widget } from '@lumino/widgets';

import { confirmCancelJob, confirmCancelSession, confirmCloseSession } from './actions';
import { button, h, patchChildren, svg } from './dom';
import {
  formatClock,
  formatDuration,
  formatJobCounts,
  formatNumber,
  isActive,
  jobDuration,
  jobLabel,
  NONE,
  pickNumericSeries,
  sessionTimeLeft,
  shortId,
  sparklinePath,
  statusClass,
  statusGlyph
} from './format';
import { RuntimeModel } from './model';
import { IJob, IJobDetail, ISession } from './types';

/** Metrics as label/text rows: one level of nesting flattened to "a.b", timestamps as clock times. */
function flattenMetrics(metrics: Record<string, unknown>): [string, string][] {
  const rows: [string, string][] = [];
  const text = (v: unknown): string => {
    if (typeof v === 'number') {
      return formatNumber(v);
    }
    if (typeof v === 'string') {
      const t = Date.parse(v);
      return /^\d{4}-\d\d-\d\dT/.test(v) && !Number.isNaN(t) ? formatClock(t / 1000) : v;
    }
    return JSON.stringify(v);
  };
  for (const [k, v] of Object.entries(metrics)) {
    if (v === null || v === undefined) {
      continue;
    }
    if (typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) {
        if (v2 !== null && v2 !== undefined) {
          rows.push([`${k}.${k2}`, text(v2)]);
        }
      }
    } else {
      rows.push([k, text(v)]);
    }
  }
  return rows;
}

/** Size of the sparkline in the detail view, in CSS pixels. */
const SPARK_WIDTH = 240;
const SPARK_HEIGHT = 48;

/** Log lines shown in the detail view (the most recent ones). */
const MAX_LOG_LINES = 50;

export class RuntimeSidebar extends Widget {
  constructor(model: RuntimeModel) {
    super();
    this._model = model;
    this.addClass('qrt-Sidebar');
    this.title.caption = 'Quantum Runtime';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Quantum Runtime');
    model.changed.connect(this._render, this);
    this._render();
  }

  get model(): RuntimeModel {
    return this._model;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._render, this);
    super.dispose();
  }

  private _render(): void {
    const model = this._model;
    const now = Date.now();
    const content = h(
      'div',
      { class: 'qrt-Sidebar-content' },
      this._header(),
      this._banner(),
      model.availability === 'ok' || model.updatedAt !== null ? this._sessionsSection(now) : null,
      model.availability === 'ok' || model.updatedAt !== null ? this._jobsSection(now) : null,
      model.selectedJobId !== null ? this._detailSection(now) : null
    );
    patchChildren(this.node, h('div', {}, content));
  }

  private _header(): HTMLElement {
    const status = this._model.status;
    const summary = status
      ? `${status.running} running · ${status.queued} queued · ${status.open_sessions} open session${status.open_sessions === 1 ? '' : 's'}`
      : NONE;
    return h(
      'header',
      { class: 'qrt-Sidebar-header' },
      h('h2', { class: 'qrt-Sidebar-title' }, 'Quantum Runtime'),
      h('div', { class: 'qrt-Sidebar-summary' }, summary)
    );
  }

  private _banner(): HTMLElement | null {
    const model = this._model;
    switch (model.availability) {
      case 'connecting':
        return h('div', { class: 'qrt-Banner qrt-Banner-info' }, 'Connecting to the runtime…');
      case 'unavailable':
        return h(
          'div',
          { class: 'qrt-Banner qrt-Banner-warn', attrs: { role: 'status' } },
          h('strong', {}, 'Runtime server extension not available.'),
          h(
            'div',
            {},
            'The Jupyter server does not serve qrt/api/ (404). Check that qrt_jupyter is installed in the ' +
              'server’s environment and enabled: jupyter server extension list. Retrying in the background.'
          )
        );
      case 'error':
        return h(
          'div',
          { class: 'qrt-Banner qrt-Banner-error', attrs: { role: 'status' } },
          h('strong', {}, 'Cannot reach the runtime: '),
          model.error ?? 'unknown error',
          ' — retrying.'
        );
      default:
        return null;
    }
  }

  private _sessionsSection(now: number): HTMLElement {
    const sessions = this._model.sessions;
    const body = sessions.length
      ? h('ul', { class: 'qrt-List' }, ...sessions.map(s => this._sessionItem(s, now)))
      : h('div', { class: 'qrt-Empty' }, 'No open sessions.');
    return h(
      'section',
      { class: 'qrt-Section qrt-Sessions', attrs: { 'data-key': 'sessions' } },
      h('h3', { class: 'qrt-Section-title' }, `Open sessions (${sessions.length})`),
      body
    );
  }

  private _sessionItem(s: ISession, now: number): HTMLElement {
    const elapsed = Math.max(0, (now - this._model.listsAt) / 1000);
    const age = s.age !== null && s.age !== undefined ? s.age + elapsed : s.created ? now / 1000 - s.created : null;
    const left = sessionTimeLeft(s, elapsed);
    const model = this._model;
    return h(
      'li',
      { class: 'qrt-Item qrt-SessionItem', attrs: { 'data-session-id': s.id } },
      h(
        'div',
        { class: 'qrt-Item-line' },
        h('span', { class: 'qrt-Backend', title: 'backend' }, s.backend || NONE),
        h('span', { class: 'qrt-Badge', title: 'execution mode' }, s.mode || 'session'),
        h('span', { class: 'qrt-Id', title: s.id }, shortId(s.id))
      ),
      h(
        'div',
        { class: 'qrt-Item-line qrt-Muted' },
        h('span', { title: 'age' }, `age ${formatDuration(age)}`),
        h('span', { title: 'time left before max_time' }, `left ${left === null ? NONE : formatDuration(left)}`)
      ),
      h('div', { class: 'qrt-Item-line qrt-Counts', title: 'jobs of this session' }, formatJobCounts(s.jobs)),
      h(
        'div',
        { class: 'qrt-Item-actions' },
        button('Close', 'Close: accept no new jobs, finish the queued ones', () => {
          void confirmCloseSession(model, s.id);
        }),
        button('Cancel', 'Cancel the session and its queued and running jobs', () => {
          void confirmCancelSession(model, s.id);
        }, 'qrt-Button-danger')
      )
    );
  }

  private _jobsSection(now: number): HTMLElement {
    const jobs = this._model.jobs;
    const body = jobs.length
      ? h('ul', { class: 'qrt-List qrt-JobList' }, ...jobs.map(j => this._jobItem(j, now)))
      : h('div', { class: 'qrt-Empty' }, 'No jobs yet.');
    const total = this._model.totalJobs;
    return h(
      'section',
      { class: 'qrt-Section qrt-Jobs', attrs: { 'data-key': 'jobs' } },
      h('h3', { class: 'qrt-Section-title' }, `Recent jobs (${jobs.length}${total > jobs.length ? ` of ${total}` : ''})`),
      body
    );
  }

  private _jobItem(job: IJob, now: number): HTMLElement {
    const model = this._model;
    const selected = model.selectedJobId === job.id;
    const item = h(
      'li',
      {
        class: `qrt-Item qrt-JobItem ${statusClass(job.status)}${selected ? ' qrt-mod-selected' : ''}`,
        title: `Job ${job.id}: ${job.status}${job.error ? ` — ${job.error}` : ''}. Click for details.`,
        attrs: { 'data-job-id': job.id, 'data-status': job.status, tabindex: '0', role: 'button' }
      },
      h('span', { class: 'qrt-StatusIcon', attrs: { 'aria-label': job.status } }, statusGlyph(job.status)),
      h(
        'div',
        { class: 'qrt-JobMain' },
        h(
          'div',
          { class: 'qrt-Item-line' },
          h('span', { class: 'qrt-Label' }, jobLabel(job)),
          h('span', { class: 'qrt-Duration', title: 'duration' }, formatDuration(jobDuration(job, now / 1000)))
        ),
        h(
          'div',
          { class: 'qrt-Item-line qrt-Muted' },
          h('span', { class: 'qrt-Id' }, shortId(job.id)),
          h('span', { class: 'qrt-Backend' }, job.backend || NONE)
        )
      ),
      isActive(job.status)
        ? button(job.cancel_requested ? 'Cancelling…' : 'Cancel', 'Cancel this job', () => {
            void confirmCancelJob(model, job.id);
          }, 'qrt-Button-danger qrt-Button-small')
        : h('span', { class: 'qrt-Spacer' })
    );
    const open = () => void model.selectJob(model.selectedJobId === job.id ? null : job.id);
    item.addEventListener('click', open);
    item.addEventListener('keydown', event => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        open();
      }
    });
    return item;
  }

  private _detailSection(now: number): HTMLElement {
    const model = this._model;
    const job = model.selectedJob;
    const id = model.selectedJobId ?? '';
    const header = h(
      'div',
      { class: 'qrt-Detail-header' },
      h('h3', { class: 'qrt-Section-title' }, `Job ${shortId(id, 12)}`),
      button('×', 'Close the detail view', () => void model.selectJob(null), 'qrt-Button-small')
    );
    if (!job) {
      return h('section', { class: 'qrt-Section qrt-Detail', attrs: { 'data-key': 'detail' } }, header, h('div', { class: 'qrt-Empty' }, 'Loading…'));
    }
    return h(
      'section',
      { class: 'qrt-Section qrt-Detail', attrs: { 'data-key': 'detail', 'data-job-id': job.id } },
      header,
      this._facts(job, now),
      this._sparkline(job),
      this._metrics(job),
      this._logs(job)
    );
  }

  private _facts(job: IJobDetail, now: number): HTMLElement {
    const rows: [string, Node | string][] = [
      [
        'status',
        h('span', { class: `qrt-StatusText ${statusClass(job.status)}` }, `${statusGlyph(job.status)} ${job.status}`)
      ],
      ['runs', jobLabel(job)],
      ['backend', job.backend || NONE],
      ['session', job.session_id ? shortId(job.session_id, 12) : NONE],
      ['created', formatClock(job.created)],
      ['duration', formatDuration(jobDuration(job, now / 1000))]
    ];
    if (job.tags && job.tags.length) {
      rows.push(['tags', job.tags.join(', ')]);
    }
    if (job.error) {
      rows.push(['error', h('span', { class: 'qrt-ErrorText' }, job.error)]);
    }
    const model = this._model;
    return h(
      'div',
      {},
      h('dl', { class: 'qrt-Facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      isActive(job.status)
        ? h('div', { class: 'qrt-Item-actions' }, button('Cancel job', 'Cancel this job', () => {
            void confirmCancelJob(model, job.id);
          }, 'qrt-Button-danger'))
        : null
    );
  }

  private _sparkline(job: IJobDetail): HTMLElement {
    const series = pickNumericSeries(job.interim);
    const title = h(
      'div',
      { class: 'qrt-Subtitle' },
      `Interim results (${job.interim.length})${series.field ? ` — ${series.field}` : ''}`
    );
    if (series.values.length === 0) {
      return h('div', { class: 'qrt-Spark' }, title, h('div', { class: 'qrt-Empty' }, job.interim.length ? 'No numeric field to plot.' : 'None yet.'));
    }
    const chart = svg('svg', {
      class: 'qrt-Sparkline',
      width: SPARK_WIDTH,
      height: SPARK_HEIGHT,
      viewBox: `0 0 ${SPARK_WIDTH} ${SPARK_HEIGHT}`,
      role: 'img',
      'aria-label': `sparkline of ${series.field ?? 'interim values'}`
    });
    chart.appendChild(svg('path', { d: sparklinePath(series.values, SPARK_WIDTH, SPARK_HEIGHT, 3), class: 'qrt-Sparkline-line' }));
    const values = series.values;
    return h(
      'div',
      { class: 'qrt-Spark' },
      title,
      chart as unknown as HTMLElement,
      h(
        'div',
        { class: 'qrt-Muted qrt-Spark-legend' },
        `min ${formatNumber(Math.min(...values))} · max ${formatNumber(Math.max(...values))} · last ${formatNumber(values[values.length - 1])}`
      )
    );
  }

  private _metrics(job: IJobDetail): HTMLElement | null {
    const rows = flattenMetrics(job.metrics ?? {});
    if (rows.length === 0) {
      return null;
    }
    return h(
      'div',
      {},
      h('div', { class: 'qrt-Subtitle' }, 'Metrics'),
      h('dl', { class: 'qrt-Facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))
    );
  }

  private _logs(job: IJobDetail): HTMLElement {
    const logs = job.logs.slice(-MAX_LOG_LINES);
    return h(
      'div',
      {},
      h('div', { class: 'qrt-Subtitle' }, `Logs (${job.logs.length})`),
      logs.length
        ? h(
            'pre',
            { class: 'qrt-Logs' },
            ...logs.map(l =>
              h('div', { class: `qrt-Log qrt-Log-${(l.level || 'info').toLowerCase()}` }, `${formatClock(l.at)} ${l.level} ${l.message}`)
            )
          )
        : h('div', { class: 'qrt-Empty' }, 'No log lines.')
    );
  }

  private _model: RuntimeModel;
}
