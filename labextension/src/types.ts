/**
 * Shapes of the JSON documents served by the qrt_jupyter server extension
 * under `<base url>/qrt/api/`. Times are UNIX seconds.
 */

/** Job status strings, as in qiskit-ibm-runtime. */
export type JobStatus = 'QUEUED' | 'RUNNING' | 'DONE' | 'ERROR' | 'CANCELLED';

/** Statuses after which a job never changes again. */
export const JOB_FINAL_STATES: ReadonlyArray<string> = ['DONE', 'ERROR', 'CANCELLED'];

/** GET qrt/api/status */
export interface IRuntimeStatus {
  running: number;
  queued: number;
  open_sessions: number;
  seq: number;
}

/** One session (or batch) as listed by GET qrt/api/sessions. */
export interface ISession {
  id: string;
  mode: string;
  backend: string;
  state: string;
  created: number;
  closed: number | null;
  max_time: number | null;
  ttl: number | null;
  age: number | null;
  /** when its first job started (its max_time counts from then), null before */
  started: number | null;
  remaining: number | null;
  jobs: Record<string, number>;
}

/** One job as listed by GET qrt/api/jobs. */
export interface IJob {
  id: string;
  session_id: string | null;
  kind: string | null;
  program: string | null;
  primitive: string | null;
  backend: string | null;
  status: string;
  created: number | null;
  started: number | null;
  finished: number | null;
  duration: number | null;
  tags: string[] | null;
  error: string | null;
  cancel_requested: boolean | null;
}

export interface IJobLog {
  at: number;
  level: string;
  message: string;
}

export interface IJobEvent {
  status: string;
  at: number;
}

export interface IInterimResult {
  seq: number;
  at: number;
  value: unknown;
}

/** GET qrt/api/jobs/{id}?since=SEQ */
export interface IJobDetail extends IJob {
  metrics: Record<string, unknown> | null;
  options: Record<string, unknown> | null;
  inputs: Record<string, unknown> | null;
  logs: IJobLog[];
  events: IJobEvent[];
  interim: IInterimResult[];
  last_seq: number;
}

export interface ISessionList {
  sessions: ISession[];
  seq: number;
}

export interface IJobList {
  jobs: IJob[];
  total: number;
  seq: number;
}

/** POST qrt/api/jobs/{id}/cancel, POST qrt/api/sessions/{id}/close|cancel */
export interface IActionReply {
  ok: boolean;
  status?: string;
  requested?: string;
}

export interface IChanges {
  seq: number;
}

export interface IJobQuery {
  limit?: number;
  offset?: number;
  status?: string[];
  session_id?: string;
  program?: string;
}
