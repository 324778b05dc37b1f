import * as z from 'zod';
import document from '../../infra/openapi/openapi.json' with { type: 'json' };
import { apiHandler } from '../../shared/http/api-handler';

/**
 * GET /api/openapi.json — public: the API's OpenAPI 3.1 document, as committed
 * (bundled into the function, so answering reads nothing). It changes only
 * with a deploy, so clients and CDNs may keep it for five minutes.
 */
const body = JSON.stringify(document);

export const handler = apiHandler({
  permission: 'public',
  summary: 'This OpenAPI document',
  responses: { 200: { unwrapped: z.looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }), paths: z.record(z.string(), z.unknown()) }) } },
  handle: async () => ({
    statusCode: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300', 'x-content-type-options': 'nosniff' },
    body,
  }),
});
