import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LocalEventBus } from '../../infra/local/event-bus';

/**
 * The local EventBridge on its own port, for in-process handler tests: the
 * publisher's SDK client talks to it through AWS_ENDPOINT_URL_EVENTBRIDGE.
 */
export async function startTestEventBus(busName: string) {
  const bus = new LocalEventBus(busName, []);
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const result = bus.putEvents(JSON.parse(body || '{}'));
      response.writeHead(result.statusCode, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(result.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = endpoint;
  return {
    bus,
    eventsOfType: (type: string) => bus.recentEvents().filter((event) => event['detail-type'] === type),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
