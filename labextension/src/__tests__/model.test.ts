import { afterEach, describe, expect, it } from 'vitest';

import { ApiError } from '../errors';
import { RuntimeModel } from '../model';
import type { IRuntimeApi } from '../request';
import { IJob, IJobDetail, IJobList, IRuntimeStatus, ISession, ISessionList } from '../types';

function job(id: string, status = 'DONE'): IJob {
  return {
    id,
    session_id: 's1',
    kind: 'primitive',
    program: null,
    primitive: 'sampler',
    backend: 'aer_simulator',
    status,
    created: 1,
    started: 2,
    finished: status === 'DONE' ? 3 : null,
    duration: status === 'DONE' ? 1 : null,
    tags: [],
    error: null,
    cancel_requested: false
  };
}

function session(id: string): ISession {
  return {
    id,
    mode: 'session',
    backend: 'aer_simulator',
    state: 'open',
    created: 1,
    closed: null,
    max_time: 600,
    ttl: 60,
    age: 5,
    started: 2,
    remaining: 595,
    jobs: { DONE: 1 }
  };
}

/** An in-memory server: counts calls, can be told to fail. */
class FakeApi implements IRuntimeApi {
  seq = 1;
  running = 0;
  sessionsList: ISession[] = [session('s1')];
  jobsList: IJob[] = [job('j1'), job('j2', 'RUNNING')];
  interim: { seq: number; at: number; value: unknown }[] = [];
  detailStatus = 'RUNNING';
  fail: ApiError | null = null;
  calls: string[] = [];

  async status(): Promise<IRuntimeStatus> {
    this.calls.push('status');
    if (this.fail) {
      throw this.fail;
    }
    return { running: this.running, queued: 0, open_sessions: this.sessionsList.length, seq: this.seq };
  }
  async sessions(state: 'open' | 'all'): Promise<ISessionList> {
    this.calls.push(`sessions:${state}`);
    return { sessions: this.sessionsList, seq: this.seq };
  }
  async session(id: string): Promise<ISession> {
    return session(id);
  }
  async jobs(): Promise<IJobList> {
    this.calls.push('jobs');
    return { jobs: this.jobsList, total: 42, seq: this.seq };
  }
  async job(id: string, since = -1): Promise<IJobDetail> {
    this.calls.push(`job:${id}:${since}`);
    const interim = this.interim.filter(r => r.seq > since);
    return {
      ...job(id, this.detailStatus),
      metrics: { shots: 100 },
      options: {},
      inputs: {},
      logs: [{ at: 1, level: 'INFO', message: 'started' }],
      events: [],
      interim,
      last_seq: this.interim.length ? this.interim[this.interim.length - 1].seq : -1
    };
  }
  async cancelJob(id: string) {
    this.calls.push(`cancel:${id}`);
    return { ok: true, status: 'RUNNING' };
  }
  async closeSession(id: string) {
    this.calls.push(`close:${id}`);
    return { ok: true, requested: 'close' };
  }
  async cancelSession(id: string) {
    this.calls.push(`cancel-session:${id}`);
    return { ok: true, requested: 'cancel' };
  }
  changesReplies: Array<() => Promise<{ seq: number }>> = [];
  async changes(): Promise<{ seq: number }> {
    this.calls.push('changes');
    const next = this.changesReplies.shift();
    if (next) {
      return next();
    }
    return new Promise(() => undefined); // hold forever, like an idle long poll
  }
}

let model: RuntimeModel | null = null;

afterEach(() => {
  model?.dispose();
  model = null;
});

function make(api: FakeApi, clock = { t: 1000 }): RuntimeModel {
  model = new RuntimeModel({ api, longPoll: false, now: () => clock.t, listRefresh: 5000 });
  return model;
}

describe('RuntimeModel.update', () => {
  it('starts connecting and loads status, open sessions and jobs', async () => {
    const api = new FakeApi();
    api.running = 1;
    const m = make(api);
    expect(m.availability).toBe('connecting');
    let changes = 0;
    m.changed.connect(() => changes++);
    await m.update();
    expect(m.availability).toBe('ok');
    expect(m.error).toBeNull();
    expect(m.running).toBe(1);
    expect(m.sessions.map(s => s.id)).toEqual(['s1']);
    expect(m.jobs.map(j => j.id)).toEqual(['j1', 'j2']);
    expect(m.totalJobs).toBe(42);
    expect(m.seq).toBe(1);
    expect(changes).toBe(1);
    expect(api.calls).toEqual(['status', 'sessions:open', 'jobs']);
  });

  it('does not refetch the lists while the sequence is unchanged', async () => {
    const api = new FakeApi();
    const clock = { t: 1000 };
    const m = make(api, clock);
    await m.update();
    api.calls = [];
    clock.t += 1000;
    await m.update();
    expect(api.calls).toEqual(['status']);
    api.seq = 2;
    await m.update();
    expect(api.calls).toEqual(['status', 'status', 'sessions:open', 'jobs']);
  });

  it('refetches the lists when they get old, for ages and time left', async () => {
    const api = new FakeApi();
    const clock = { t: 1000 };
    const m = make(api, clock);
    await m.update();
    api.calls = [];
    clock.t += 6000;
    await m.update();
    expect(api.calls).toEqual(['status', 'sessions:open', 'jobs']);
    expect(m.listsAt).toBe(7000);
  });

  it('reports a missing server extension (404) as unavailable and rethrows', async () => {
    const api = new FakeApi();
    api.fail = new ApiError('Not Found', 404);
    const m = make(api);
    await expect(m.update()).rejects.toThrow('Not Found');
    expect(m.availability).toBe('unavailable');
    expect(m.error).toBe('Not Found');
    api.fail = null;
    await m.update();
    expect(m.availability).toBe('ok');
    expect(m.error).toBeNull();
  });

  it('reports other failures as errors and keeps the last data', async () => {
    const api = new FakeApi();
    const m = make(api);
    await m.update();
    api.fail = new ApiError('cannot reach the Jupyter server', 0);
    await expect(m.update()).rejects.toBeInstanceOf(ApiError);
    expect(m.availability).toBe('error');
    expect(m.jobs).toHaveLength(2);
  });
});

describe('RuntimeModel job detail', () => {
  it('fetches the selected job, then only new interim results', async () => {
    const api = new FakeApi();
    api.interim = [
      { seq: 0, at: 1, value: { energy: -1 } },
      { seq: 1, at: 2, value: { energy: -1.5 } }
    ];
    const m = make(api);
    await m.update();
    const selected: (string | null)[] = [];
    m.selectionChanged.connect((_, id) => selected.push(id));
    await m.selectJob('j2');
    expect(selected).toEqual(['j2']);
    expect(m.selectedJob?.interim.map(r => r.seq)).toEqual([0, 1]);
    expect(m.selectedJob?.last_seq).toBe(1);
    expect(api.calls).toContain('job:j2:-1');

    api.interim.push({ seq: 2, at: 3, value: { energy: -1.8 } });
    api.seq = 2;
    await m.update();
    expect(api.calls).toContain('job:j2:1');
    expect(m.selectedJob?.interim.map(r => r.seq)).toEqual([0, 1, 2]);
    expect(m.selectedJob?.logs).toHaveLength(1);
  });

  it('leaves a finished job alone until the store changes', async () => {
    const api = new FakeApi();
    api.detailStatus = 'DONE';
    const m = make(api);
    await m.update();
    await m.selectJob('j1');
    api.calls = [];
    await m.update();
    expect(api.calls.filter(c => c.startsWith('job:'))).toEqual([]);
    api.seq = 5;
    await m.update();
    expect(api.calls.filter(c => c.startsWith('job:'))).toEqual(['job:j1:-1']);
  });

  it('clears the detail when the selection is cleared', async () => {
    const api = new FakeApi();
    const m = make(api);
    await m.selectJob('j1');
    expect(m.selectedJob?.id).toBe('j1');
    await m.selectJob(null);
    expect(m.selectedJobId).toBeNull();
    expect(m.selectedJob).toBeNull();
  });
});

describe('RuntimeModel actions', () => {
  it('sends cancel and close requests to the server', async () => {
    const api = new FakeApi();
    const m = make(api);
    expect((await m.cancelJob('j2')).ok).toBe(true);
    expect((await m.closeSession('s1')).requested).toBe('close');
    expect((await m.cancelSession('s1')).requested).toBe('cancel');
    expect(api.calls).toEqual(expect.arrayContaining(['cancel:j2', 'close:s1', 'cancel-session:s1']));
  });

  it('passes a 409 from the server on to the caller', async () => {
    const api = new FakeApi();
    api.cancelJob = async () => {
      throw new ApiError('job j1 is already DONE', 409);
    };
    const m = make(api);
    const error = await m.cancelJob('j1').catch(e => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).conflict).toBe(true);
  });
});

describe('RuntimeModel polling', () => {
  it('polls with a lumino Poll: backoff, standby when hidden, about once a second', async () => {
    const api = new FakeApi();
    const m = new RuntimeModel({ api, longPoll: false });
    model = m;
    m.start();
    const poll = m.poll!;
    expect(poll.frequency.interval).toBe(1000);
    expect(poll.frequency.backoff).toBe(true);
    expect(poll.standby).toBe('when-hidden');
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(m.availability).toBe('ok');
    m.dispose();
    expect(m.isDisposed).toBe(true);
    expect(poll.isDisposed).toBe(true);
  });

  it('refreshes at once when the long poll reports a new sequence, then slows the poll', async () => {
    const api = new FakeApi();
    let release: (v: { seq: number }) => void = () => undefined;
    api.changesReplies.push(() => new Promise(resolve => (release = resolve)));
    const m = new RuntimeModel({ api, longPoll: true, interval: 1000, longPollInterval: 5000 });
    model = m;
    m.start();
    await new Promise(resolve => setTimeout(resolve, 50));
    expect(m.seq).toBe(1);
    // the loop waits for availability before its first long poll
    await new Promise(resolve => setTimeout(resolve, 1200));
    expect(api.calls).toContain('changes');
    api.seq = 7;
    release({ seq: 7 });
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(m.seq).toBe(7);
    expect(m.longPolling).toBe(true);
    expect(m.poll!.frequency.interval).toBe(5000);
  });

  it('stops long polling when the server has no changes endpoint', async () => {
    const api = new FakeApi();
    api.changesReplies.push(async () => {
      throw new ApiError('Not Found', 404);
    });
    const m = new RuntimeModel({ api, longPoll: true, interval: 100 });
    model = m;
    m.start();
    await new Promise(resolve => setTimeout(resolve, 400));
    expect(api.calls.filter(c => c === 'changes')).toHaveLength(1);
    expect(m.longPolling).toBe(false);
    expect(m.poll!.frequency.interval).toBe(100);
  });
});
