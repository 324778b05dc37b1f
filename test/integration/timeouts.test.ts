import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../infra/local/lambda-events';
import { awsClientConfig, boundedByDeadline, callBudgetMs, runWithDeadline } from '../../shared/deadline';
import { apiHandler } from '../../shared/http/api-handler';
import { success } from '../../shared/http/envelope';
import { logger } from '../../shared/logging/logger';
import { ProviderError } from '../../shared/oauth/errors';
import { providerFetch } from '../../shared/oauth/http';
import { webhookHandler, webhookResponse } from '../../shared/webhooks/handler';
import { apiEvent, claimsFor } from '../support/api';

/**
 * Nothing waits forever: a dependency that accepts the connection and never
 * answers (the worst kind of outage) fails the call within the invocation's
 * budget, and the API still answers with its envelope.
 */
let blackHole: Server;
let url = '';
const sockets = new Set<Socket>();

beforeAll(async () => {
  blackHole = createServer((socket) => {
    sockets.add(socket); // accepted, read, never answered
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => blackHole.close(resolve));
});

describe('nothing waits forever', () => {
  it('a provider call gets what is left of the invocation, less the time to answer', async () => {
    expect(callBudgetMs(10_000)).toBe(10_000);
    await runWithDeadline(3_000, async () => {
      expect(callBudgetMs(10_000)).toBeLessThanOrEqual(2_000);
      expect(callBudgetMs(500)).toBe(500);
    });
  });

  it('a provider that never answers is a transient timeout within the budget, not a hang', async () => {
    const error = await runWithDeadline(2_500, () => providerFetch('slack', `${url}/api/auth.test`, { method: 'POST' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'timeout', kind: 'transient' });
  });

  it('an AWS endpoint that never answers fails the call (connect and request timeouts, one retry)', async () => {
    const client = new DynamoDBClient({ ...awsClientConfig(), endpoint: url, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const error = await client.send(new ListTablesCommand({})).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toMatch(/Timeout/i);
    client.destroy();
  }, 15_000);

  it("inside a short invocation (the Slack webhook's 3 seconds) an AWS call gets only what is left, not the client's own timeouts", async () => {
    const client = boundedByDeadline(new DynamoDBClient({ ...awsClientConfig(), endpoint: url, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
    const error = await runWithDeadline(2_000, () => client.send(new ListTablesCommand({}))).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    // Ended by the invocation's budget (an abort), not by the client's own request timeout.
    expect((error as Error).name).toMatch(/Abort/i);
    client.destroy();
  });

  it('an API call whose provider stalls answers 503 provider_unavailable with the envelope before its function is stopped', async () => {
    const handler = apiHandler({
      permission: 'integrations:read',
      handle: async () => success(await providerFetch('google', `${url}/tokeninfo`, { method: 'GET' })),
    });
    const answer = await handler(apiEvent({ claims: claimsFor('org-timeouts') }), lambdaContext('probe', 3));
    expect(answer.statusCode).toBe(503);
    expect(JSON.parse(String(answer.body))).toMatchObject({ success: false, error: { code: 'provider_unavailable' } });
  });

  it('an API call whose store never answers is 503 service_unavailable with Retry-After, not a 500', async () => {
    const store = boundedByDeadline(new DynamoDBClient({ ...awsClientConfig(), endpoint: url, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
    const handler = apiHandler({
      permission: 'integrations:read',
      handle: async () => success(await store.send(new ListTablesCommand({}))),
    });
    const answer = await handler(apiEvent({ claims: claimsFor('org-timeouts') }), lambdaContext('probe', 3));
    store.destroy();
    expect(answer.statusCode).toBe(503);
    expect(answer.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(String(answer.body))).toMatchObject({ success: false, error: { code: 'service_unavailable' } });
  });

  it('a webhook whose store never answers or throttles is 503 service_unavailable with Retry-After (the provider retries), logged as an error', async () => {
    // A DynamoDB that turns every request away as throttled, alongside the black hole.
    const throttling = createHttpServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': 'ThrottlingException' });
      response.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate of requests exceeds the allowed throughput' }));
    });
    await new Promise<void>((resolve) => throttling.listen(0, '127.0.0.1', resolve));
    const stores = [url, `http://127.0.0.1:${(throttling.address() as AddressInfo).port}`].map((endpoint) =>
      boundedByDeadline(new DynamoDBClient({ ...awsClientConfig(), endpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } })),
    );
    const errors = vi.spyOn(logger, 'error');
    try {
      const answers = await Promise.all(
        stores.map((store) => webhookHandler('probe', async () => webhookResponse(200, await store.send(new ListTablesCommand({}))))(apiEvent({ method: 'POST', claims: null }), lambdaContext('probe', 3))),
      );
      for (const answer of answers) {
        expect(answer.statusCode).toBe(503);
        expect(answer.headers?.['retry-after']).toBe('1');
        expect(JSON.parse(String(answer.body))).toEqual({ success: false, error: { code: 'service_unavailable', message: expect.any(String) } });
      }
      expect(errors.mock.calls.map(([message]) => message)).toEqual(['Dependency unavailable', 'Dependency unavailable']);
    } finally {
      errors.mockRestore();
      for (const store of stores) store.destroy();
      await new Promise((resolve) => throttling.close(resolve));
    }
  });
});
