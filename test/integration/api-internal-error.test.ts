import { describe, expect, it } from 'vitest';
import { call, claimsFor } from '../support/api';

describe('an internal failure', () => {
  it('is a 500 in the envelope that names no internals', async () => {
    // A table that does not exist makes DynamoDB fail the way a real outage would.
    process.env.TABLE_NAME = 'table-that-does-not-exist';
    const { handler } = await import('../../functions/api/list-integrations');
    const response = await call(handler, { claims: claimsFor('org-500') });
    expect(response.statusCode).toBe(500);
    expect(response.json.success).toBe(false);
    expect(response.json.error?.code).toBe('internal_error');
    expect(response.json.error?.message).toMatch(/^An unexpected error occurred \(reference [0-9a-f-]{36}\)$/);
    expect(response.raw).not.toMatch(/ResourceNotFound|table-that-does-not-exist|dynamo|stack/i);
  });
});
