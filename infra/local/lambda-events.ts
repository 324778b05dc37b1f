import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  Context,
} from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/**
 * Builds the events Lambda receives, byte for byte in shape: API Gateway HTTP
 * API payload v2.0 for routes (with the JWT authorizer's claims) and the
 * Function URL event (the same format, `routeKey: "$default"`) for webhooks.
 */
export interface IncomingRequest {
  method: string;
  rawPath: string;
  rawQueryString: string;
  /** Header names as received; values of repeated headers are joined with commas, as AWS does. */
  headers: Record<string, string>;
  body: Buffer;
  sourceIp: string;
}

export type JwtClaims = Record<string, string | number | boolean | string[]>;

const TEXT_CONTENT = /^(text\/|application\/(json|.*\+json|x-www-form-urlencoded|xml|.*\+xml|javascript))/i;

function encodeBody(body: Buffer, contentType: string): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  return TEXT_CONTENT.test(contentType)
    ? { body: body.toString('utf8'), isBase64Encoded: false }
    : { body: body.toString('base64'), isBase64Encoded: true };
}

function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const params: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    params[name] = params[name] === undefined ? value : `${params[name]},${value}`;
  }
  return params;
}

function requestTime(now: Date): string {
  // API Gateway's format: 12/Mar/2020:19:03:58 +0000
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(now.getUTCDate())}/${months[now.getUTCMonth()]}/${now.getUTCFullYear()}:${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000`;
}

function baseEvent(request: IncomingRequest, routeKey: string): APIGatewayProxyEventV2 {
  const now = new Date();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  // Payload v2 moves cookies out of the headers.
  const cookies = headers.cookie?.split(/;\s*/).filter(Boolean);
  delete headers.cookie;
  const domainName = headers.host ?? 'localhost';
  const queryStringParameters = queryParameters(request.rawQueryString);
  return {
    version: '2.0',
    routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method,
        path: request.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...encodeBody(request.body, headers['content-type'] ?? ''),
  };
}

export function httpApiEvent(
  request: IncomingRequest,
  route: { routeKey: string; pathParameters?: Record<string, string>; claims?: JwtClaims },
): APIGatewayProxyEventV2 {
  const event = baseEvent(request, route.routeKey);
  if (route.pathParameters && Object.keys(route.pathParameters).length > 0) event.pathParameters = route.pathParameters;
  if (route.claims) {
    // The JWT authorizer passes claims as strings (arrays stay arrays).
    const claims: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(route.claims)) claims[name] = Array.isArray(value) ? value : String(value);
    Object.assign(event.requestContext, { authorizer: { jwt: { claims, scopes: null } } });
  }
  return event;
}

export function functionUrlEvent(request: IncomingRequest): APIGatewayProxyEventV2 {
  return baseEvent(request, '$default');
}

export function lambdaContext(functionName: string, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** Maps a v2 result back to HTTP the way API Gateway does (a bare value is a 200 JSON body). */
export function toHttpResponse(result: APIGatewayProxyResultV2 | undefined): HttpResponse {
  if (result === undefined || result === null) return { statusCode: 200, headers: {}, cookies: [], body: Buffer.alloc(0) };
  if (typeof result === 'string') {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(result) };
  }
  if (typeof result !== 'object' || !('statusCode' in result) || typeof result.statusCode !== 'number') {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from(JSON.stringify(result)),
    };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const body = result.body ?? '';
  return {
    statusCode: result.statusCode,
    headers,
    cookies: result.cookies ?? [],
    body: result.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
  };
}
