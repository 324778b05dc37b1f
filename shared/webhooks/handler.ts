import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { isAwsUnavailable, runWithDeadline } from '../deadline';
import { logger } from '../logging/logger';
import { loadProviderCredentials } from '../oauth/provider-secrets';

/**
 * A provider webhook behind a Lambda Function URL. The raw body is handed over
 * as bytes (verification must see exactly what was signed). Anything thrown
 * makes the provider retry, with nothing of it in the answer: a 503 with
 * Retry-After when one of our own AWS dependencies (table, bus, secret) was
 * slow or throttled, as the API answers it, else a 500.
 */
export interface WebhookRequest {
  rawBody: Buffer;
  headers: Record<string, string | undefined>;
  query: Record<string, string | undefined>;
  event: APIGatewayProxyEventV2;
}

export type WebhookResult = APIGatewayProxyStructuredResultV2;

/** How soon a provider may retry after one of our own AWS dependencies failed a call (the API's figure). */
const DEPENDENCY_RETRY_AFTER_SECONDS = 1;

/** Largest webhook body accepted (Slack events are far smaller); bigger ones are refused before any work. */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export const webhookResponse = (statusCode: number, body: unknown = '', contentType = 'application/json'): WebhookResult => ({
  statusCode,
  headers: { 'content-type': contentType, 'cache-control': 'no-store' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

export function webhookHandler(provider: string, handle: (request: WebhookRequest) => Promise<WebhookResult>) {
  return middy<APIGatewayProxyEventV2, WebhookResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .handler((event, context) =>
      runWithDeadline(context.getRemainingTimeInMillis(), async () => {
        logger.appendKeys({ webhookProvider: provider });
        try {
          await loadProviderCredentials();
          const rawBody = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
          if (rawBody.length > MAX_WEBHOOK_BYTES) return webhookResponse(413, { success: false, error: { code: 'payload_too_large', message: 'Body too large' } });
          return await handle({ rawBody, headers: event.headers ?? {}, query: event.queryStringParameters ?? {}, event });
        } catch (error) {
          if (isAwsUnavailable(error)) {
            // Worth the provider's retry in a moment, and an operator's look (as the API logs it).
            logger.error('Dependency unavailable', { error });
            const answer = webhookResponse(503, { success: false, error: { code: 'service_unavailable', message: 'The service is briefly unavailable; retry in a moment' } });
            return { ...answer, headers: { ...answer.headers, 'retry-after': String(DEPENDENCY_RETRY_AFTER_SECONDS) } };
          }
          logger.error('Webhook processing failed', { error });
          return webhookResponse(500, { success: false, error: { code: 'internal_error', message: `Reference ${context.awsRequestId}` } });
        }
      }),
    );
}
