/**
 * RuntimeModel: what the sidebar and the status bar show, kept fresh by a
 * lumino Poll (backoff on errors, standby while the page is hidden) and,
 * when the server offers it, a long poll on the store's change sequence.
 * No widgets here; they listen to `changed`.
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError } from './errors';
import { mergeInterim } from './format';
import type { IRuntimeApi } from './request';
import { IActionReply, IJob, IJobDetail, IRuntimeStatus, ISession, JOB_FINAL_STATES } from './types';

/**
 * Whether the server extension answers: `connecting` before the first reply,
 * `unavailable` when its endpoints are missing (404), `error` for any other
 * failure.
 */
export type Availability = 'connecting' | 'ok' | 'unavailable' | 'error';

export namespace RuntimeModel {
  export interface IOptions {
    api: IRuntimeApi;
    /** Poll interval in ms while nothing goes wrong (default 1000). */
    interval?: number;
    /** Poll interval in ms while the long poll delivers changes (default 5000). */
    longPollInterval?: number;
    /** Longest interval in ms that backoff reaches (default 30000). */
    maxInterval?: number;
    /** How many recent jobs to list (default 20). */
    jobLimit?: number;
    /** Refetch lists at least this often (ms) even if the sequence is unchanged (default 5000). */
    listRefresh?: number;
    /** Use GET qrt/api/changes to learn of changes at once (default true). */
    longPoll?: boolean;
    /** Seconds the server may hold a long poll (default 20). */
    longPollTimeout?: number;
    /** Clock in ms, replaceable in tests. */
    now?: () => number;
  }
}

export class RuntimeModel implements IDisposable {
  constructor(options: RuntimeModel.IOptions) {
    this._api = options.api;
    this._interval = options.interval ?? 1000;
    this._longPollInterval = options.longPollInterval ?? 5000;
    this._maxInterval = options.maxInterval ?? 30000;
    this._jobLimit = options.jobLimit ?? 20;
    this._listRefresh = options.listRefresh ?? 5000;
    this._longPollWanted = options.longPoll ?? true;
    this._longPollTimeout = options.longPollTimeout ?? 20;
    this._now = options.now ?? (() => Date.now());
  }

  /** Emitted after every refresh, successful or not. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted when the selected job changes (not on its updates). */
  get selectionChanged(): ISignal<this, string | null> {
    return this._selectionChanged;
  }

  get availability(): Availability {
    return this._availability;
  }

  /** Message of the last failure, or null after a success. */
  get error(): string | null {
    return this._error;
  }

  get status(): IRuntimeStatus | null {
    return this._status;
  }

  /** Number of running jobs, 0 while unknown. */
  get running(): number {
    return this._status?.running ?? 0;
  }

  get sessions(): ReadonlyArray<ISession> {
    return this._sessions;
  }

  get jobs(): ReadonlyArray<IJob> {
    return this._jobs;
  }

  get totalJobs(): number {
    return this._totalJobs;
  }

  /** The store's change sequence last seen, -1 before the first reply. */
  get seq(): number {
    return this._seq;
  }

  /** Milliseconds since epoch when the session and job lists were fetched. */
  get listsAt(): number {
    return this._listsAt;
  }

  /** Milliseconds since epoch of the last successful refresh, or null. */
  get updatedAt(): number | null {
    return this._updatedAt;
  }

  get selectedJobId(): string | null {
    return this._selectedJobId;
  }

  /** Detail of the selected job, with every interim result fetched so far. */
  get selectedJob(): IJobDetail | null {
    return this._selectedJob;
  }

  /** Whether the long poll on qrt/api/changes is in use. */
  get longPolling(): boolean {
    return this._longPollActive;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** The poll driving refreshes; null before `start()`. */
  get poll(): Poll | null {
    return this._poll;
  }

  /** Start polling (and long polling); idempotent. */
  start(): void {
    if (this._poll || this._isDisposed) {
      return;
    }
    this._poll = new Poll({
      factory: () => this.update(),
      frequency: { interval: this._interval, backoff: true, max: this._maxInterval },
      standby: 'when-hidden',
      name: 'qrt_jupyter:runtime-model'
    });
    if (this._longPollWanted) {
      void this._longPollLoop();
    }
  }

  /** Refresh now, through the poll when it runs. */
  async refresh(): Promise<void> {
    if (this._poll) {
      await this._poll.refresh();
      await this._poll.tick;
    } else {
      await this.update().catch(() => undefined);
    }
  }

  /**
   * Fetch the status and, when the change sequence moved (or the lists are
   * older than `listRefresh`), the open sessions and recent jobs; then the
   * selected job's detail. Throws after recording the failure, so the poll
   * backs off.
   */
  async update(): Promise<void> {
    try {
      const status = await this._api.status();
      const now = this._now();
      const listsStale =
        this._updatedAt === null ||
        status.seq !== this._seq ||
        now - this._listsAt >= this._listRefresh;
      if (listsStale) {
        const [sessions, jobs] = await Promise.all([
          this._api.sessions('open'),
          this._api.jobs({ limit: this._jobLimit })
        ]);
        this._sessions = sessions.sessions ?? [];
        this._jobs = jobs.jobs ?? [];
        this._totalJobs = jobs.total ?? this._jobs.length;
        this._listsAt = now;
      }
      await this._updateSelected(status.seq !== this._seq);
      this._status = status;
      this._seq = status.seq;
      this._availability = 'ok';
      this._error = null;
      this._updatedAt = now;
      this._changed.emit(undefined);
    } catch (error) {
      this._recordFailure(error);
      this._changed.emit(undefined);
      throw error;
    }
  }

  /** Select a job for the detail view (null to close it) and fetch its detail. */
  async selectJob(id: string | null): Promise<void> {
    if (id === this._selectedJobId) {
      return;
    }
    this._selectedJobId = id;
    this._selectedJob = null;
    this._selectionChanged.emit(id);
    this._changed.emit(undefined);
    if (id !== null) {
      try {
        await this._updateSelected(true);
      } catch (error) {
        this._error = error instanceof Error ? error.message : String(error);
      }
      this._changed.emit(undefined);
    }
  }

  /** Ask the server to cancel a job, then refresh. */
  async cancelJob(id: string): Promise<IActionReply> {
    const reply = await this._api.cancelJob(id);
    void this.refresh();
    return reply;
  }

  /** Ask the server to close a session (no new jobs; queued ones still run). */
  async closeSession(id: string): Promise<IActionReply> {
    const reply = await this._api.closeSession(id);
    void this.refresh();
    return reply;
  }

  /** Ask the server to cancel a session and its queued and running jobs. */
  async cancelSession(id: string): Promise<IActionReply> {
    const reply = await this._api.cancelSession(id);
    void this.refresh();
    return reply;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._abort?.abort();
    this._poll?.dispose();
    this._poll = null;
    Signal.clearData(this);
  }

  private _recordFailure(error: unknown): void {
    if (error instanceof ApiError && error.notAvailable) {
      this._availability = 'unavailable';
    } else {
      this._availability = 'error';
    }
    this._error = error instanceof Error ? error.message : String(error);
  }

  /**
   * Fetch the selected job's new interim results, logs and state. A final
   * job is fetched once more after it ends, then left alone unless the
   * store changed (`force`).
   */
  private async _updateSelected(force: boolean): Promise<void> {
    const id = this._selectedJobId;
    if (id === null) {
      return;
    }
    const known = this._selectedJob;
    if (known && known.id === id && JOB_FINAL_STATES.includes(known.status) && !force) {
      return;
    }
    const since = known && known.id === id ? known.last_seq : -1;
    const fresh = await this._api.job(id, since);
    if (this._selectedJobId !== id) {
      return; // the selection changed while we waited
    }
    const interim = known && known.id === id ? mergeInterim(known.interim, fresh.interim ?? []) : mergeInterim([], fresh.interim ?? []);
    const lastSeq = interim.length ? interim[interim.length - 1].seq : fresh.last_seq ?? -1;
    this._selectedJob = {
      ...fresh,
      logs: fresh.logs ?? [],
      events: fresh.events ?? [],
      interim,
      last_seq: Math.max(lastSeq, fresh.last_seq ?? -1)
    };
  }

  /**
   * Wait on GET qrt/api/changes for the sequence to move, then refresh at
   * once. While this works the regular poll slows down; a 404 turns it off
   * (older server), other errors pause it for a while.
   */
  private async _longPollLoop(): Promise<void> {
    while (!this._isDisposed) {
      if (this._availability !== 'ok') {
        await this._sleep(this._interval);
        continue;
      }
      this._abort = new AbortController();
      try {
        const reply = await this._api.changes(this._seq, this._longPollTimeout, this._abort.signal);
        if (this._isDisposed) {
          return;
        }
        this._setLongPollActive(true);
        if (reply.seq !== this._seq) {
          await this.refresh();
        }
      } catch (error) {
        if (this._isDisposed) {
          return;
        }
        this._setLongPollActive(false);
        if (error instanceof ApiError && error.notAvailable && this._availability === 'ok') {
          return; // the server has no long poll; the regular poll carries on
        }
        await this._sleep(Math.min(this._maxInterval, 5000));
      }
    }
  }

  private _setLongPollActive(active: boolean): void {
    if (active === this._longPollActive) {
      return;
    }
    this._longPollActive = active;
    if (this._poll) {
      this._poll.frequency = {
        interval: active ? this._longPollInterval : this._interval,
        backoff: true,
        max: this._maxInterval
      };
    }
  }

  private _sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
  }

  private _api: IRuntimeApi;
  private _interval: number;
  private _longPollInterval: number;
  private _maxInterval: number;
  private _jobLimit: number;
  private _listRefresh: number;
  private _longPollWanted: boolean;
  private _longPollTimeout: number;
  private _now: () => number;

  private _poll: Poll | null = null;
  private _abort: AbortController | null = null;
  private _longPollActive = false;
  private _isDisposed = false;
  private _availability: Availability = 'connecting';
  private _error: string | null = null;
  private _status: IRuntimeStatus | null = null;
  private _sessions: ISession[] = [];
  private _jobs: IJob[] = [];
  private _totalJobs = 0;
  private _seq = -1;
  private _listsAt = 0;
  private _updatedAt: number | null = null;
  private _selectedJobId: string | null = null;
  private _selectedJob: IJobDetail | null = null;
  private _changed = new Signal<this, void>(this);
  private _selectionChanged = new Signal<this, string | null>(this);
}
