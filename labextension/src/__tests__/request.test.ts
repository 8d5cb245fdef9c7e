import { describe, expect, it } from 'vitest';

import { ApiError } from '../errors';
import { queryString } from '../request';

describe('queryString', () => {
  it('drops undefined and empty values and encodes the rest', () => {
    expect(queryString({ state: 'open', limit: 50 })).toBe('?state=open&limit=50');
    expect(queryString({ status: 'RUNNING,QUEUED', session_id: undefined, program: '' })).toBe(
      '?status=RUNNING%2CQUEUED'
    );
    expect(queryString({ id: 'a b/c' })).toBe('?id=a%20b%2Fc');
    expect(queryString({})).toBe('');
    expect(queryString({ since: -1 })).toBe('?since=-1');
  });
});

describe('ApiError', () => {
  it('tells a missing extension and a conflict apart', () => {
    expect(new ApiError('x', 404).notAvailable).toBe(true);
    expect(new ApiError('x', 409).conflict).toBe(true);
    expect(new ApiError('x', 0).notAvailable).toBe(false);
    expect(new ApiError('x', 500).conflict).toBe(false);
  });
});
