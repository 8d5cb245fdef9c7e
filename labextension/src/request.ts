/**
 * Requests to the qrt_jupyter server extension, through the lab's
 * ServerConnection so that the base URL, the token and the XSRF cookie are
 * those of the running server.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { ApiError } from './errors';
import {
  IActionReply,
  IChanges,
  IJobDetail,
  IJobList,
  IJobQuery,
  IRuntimeStatus,
  ISession,
  ISessionList
} from './types';

/** Path of the REST API below the server's base URL. */
export const API_NAMESPACE = 'qrt/api';

/**
 * Call `<base url>/qrt/api/<endPoint>` and return its JSON body; any non-2xx
 * reply becomes an ApiError carrying the server's `message`.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ApiError(`cannot reach the Jupyter server: ${String(error)}`, 0);
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const message =
      (data && typeof data.message === 'string' && data.message) ||
      `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return data as T;
}

/** The server calls the RuntimeModel makes; an interface so tests can fake it. */
export interface IRuntimeApi {
  status(): Promise<IRuntimeStatus>;
  sessions(state: 'open' | 'all', limit?: number): Promise<ISessionList>;
  session(id: string): Promise<ISession>;
  jobs(query?: IJobQuery): Promise<IJobList>;
  job(id: string, since?: number): Promise<IJobDetail>;
  cancelJob(id: string): Promise<IActionReply>;
  closeSession(id: string): Promise<IActionReply>;
  cancelSession(id: string): Promise<IActionReply>;
  changes(since: number, timeout: number, signal?: AbortSignal): Promise<IChanges>;
}

/** Build a query string from the defined entries of `params`. */
export function queryString(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** IRuntimeApi over HTTP. */
export class RuntimeApi implements IRuntimeApi {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings ?? ServerConnection.makeSettings();
  }

  status(): Promise<IRuntimeStatus> {
    return this._get('status');
  }

  sessions(state: 'open' | 'all', limit = 50): Promise<ISessionList> {
    return this._get(`sessions${queryString({ state, limit })}`);
  }

  session(id: string): Promise<ISession> {
    return this._get(`sessions/${encodeURIComponent(id)}`);
  }

  jobs(query: IJobQuery = {}): Promise<IJobList> {
    return this._get(
      `jobs${queryString({
        limit: query.limit,
        offset: query.offset,
        status: query.status?.join(','),
        session_id: query.session_id,
        program: query.program
      })}`
    );
  }

  job(id: string, since = -1): Promise<IJobDetail> {
    return this._get(`jobs/${encodeURIComponent(id)}${queryString({ since })}`);
  }

  cancelJob(id: string): Promise<IActionReply> {
    return this._post(`jobs/${encodeURIComponent(id)}/cancel`);
  }

  closeSession(id: string): Promise<IActionReply> {
    return this._post(`sessions/${encodeURIComponent(id)}/close`);
  }

  cancelSession(id: string): Promise<IActionReply> {
    return this._post(`sessions/${encodeURIComponent(id)}/cancel`);
  }

  changes(since: number, timeout: number, signal?: AbortSignal): Promise<IChanges> {
    return requestAPI<IChanges>(
      `changes${queryString({ since, timeout })}`,
      { method: 'GET', signal },
      this._settings
    );
  }

  private _get<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, { method: 'GET' }, this._settings);
  }

  private _post<T>(endPoint: string): Promise<T> {
    return requestAPI<T>(endPoint, { method: 'POST', body: '{}' }, this._settings);
  }

  private _settings: ServerConnection.ISettings;
}
