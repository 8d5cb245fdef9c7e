/**
 * The one error type of the data layer: what went wrong talking to the
 * server extension, with the HTTP status when there was a response.
 */
export class ApiError extends Error {
  /** HTTP status, or 0 when the server could not be reached. */
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }

  /** The server runs, but without the qrt_jupyter server extension. */
  get notAvailable(): boolean {
    return this.status === 404;
  }

  /** The request conflicts with the state (e.g. cancelling a finished job). */
  get conflict(): boolean {
    return this.status === 409;
  }
}
