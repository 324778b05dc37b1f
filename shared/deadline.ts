/**
 * Nothing waits forever: every invocation runs with a deadline (the Lambda's
 * remaining time), and every outgoing call gets a timeout that ends before it,
 * so a stalled dependency becomes a documented error while there is still time
 * to answer, instead of a function killed mid-way with no answer at all.
 * AsyncLocalStorage keeps each invocation's own deadline where several run in
 * one process (the local runtime).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const invocationDeadline = new AsyncLocalStorage<number>();

/** Runs `work` with `remainingMs` left before its function is stopped. */
export function runWithDeadline<T>(remainingMs: number, work: () => Promise<T>): Promise<T> {
  return invocationDeadline.run(Date.now() + remainingMs, work);
}

/** What is left of the invocation, or undefined outside one. */
export function remainingMs(): number | undefined {
  const deadline = invocationDeadline.getStore();
  return deadline === undefined ? undefined : deadline - Date.now();
}

/** Time kept back to shape and send the answer after a call gave up. */
export const ANSWER_MARGIN_MS = 1_000;
const MIN_CALL_MS = 50;

/** How long one call may take: its own limit, or what is left of the invocation less the margin, whichever is less. */
export function callBudgetMs(limitMs: number): number {
  const deadline = invocationDeadline.getStore();
  if (deadline === undefined) return limitMs;
  return Math.max(MIN_CALL_MS, Math.min(limitMs, deadline - Date.now() - ANSWER_MARGIN_MS));
}

/**
 * Every AWS SDK client's settings: a connect timeout and a request timeout
 * well inside the shortest function timeout (5 s), and one retry, so a stalled
 * AWS endpoint fails the call within about 6 s. The HTTP handler only warns
 * about a request timeout unless told to throw.
 */
export const AWS_CLIENT_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 3_000 } as const;
export const awsClientConfig = () => ({ requestHandler: { ...AWS_CLIENT_TIMEOUTS, throwOnRequestTimeout: true }, maxAttempts: 2 });

/** The longest one AWS call may take whatever the invocation's budget: both attempts with their timeouts. */
const AWS_CALL_LIMIT_MS = 2 * (AWS_CLIENT_TIMEOUTS.connectionTimeout + AWS_CLIENT_TIMEOUTS.requestTimeout);

interface SendsCommands {
  send(command: never, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * Bounds every call of an AWS SDK client by the invocation's budget as well
 * (an abort signal per call), so a function with a short deadline (the Slack
 * webhook answers within Slack's 3 seconds) never waits out the client's own
 * timeouts.
 */
export function boundedByDeadline<C extends SendsCommands>(client: C): C {
  // The class's own send, looked up at each call (so a test double installed later still applies).
  const classSend = (): SendsCommands['send'] => (Object.getPrototypeOf(client) as SendsCommands).send;
  const bounded = (command: never, options?: { abortSignal?: AbortSignal }) =>
    classSend().call(client, command, { abortSignal: AbortSignal.timeout(callBudgetMs(AWS_CALL_LIMIT_MS)), ...options });
  return Object.assign(client, { send: bounded });
}

/** Error names of an AWS call that gave up or was turned away for now: throttling, timeouts, aborts, a service's own outage. */
const UNAVAILABLE_NAMES = new Set([
  'TimeoutError',
  'AbortError',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSInternalException',
]);
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/**
 * True when an AWS dependency (DynamoDB, KMS, EventBridge, Secrets Manager)
 * was slow, throttled or down rather than refusing the request itself: the
 * caller may retry shortly, so the API answers 503 with Retry-After, not 500.
 */
export function isAwsUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNAVAILABLE_NAMES.has(error.name)) return true;
  const { code, $fault } = error as Error & { code?: unknown; $fault?: unknown };
  return $fault === 'server' || (typeof code === 'string' && UNAVAILABLE_SOCKET_CODES.has(code));
}
