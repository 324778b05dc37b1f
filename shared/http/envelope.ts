/** The documented response envelope: `{success:true,data}` or `{success:false,error:{code,message}}`. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from 'zod';
import type { ErrorCode } from '../domain/errors';

/** The failure envelope as the OpenAPI document and the contract checks describe it. */
export const errorEnvelopeSchema = z.object({
  success: z.literal(false),
  error: z.object({ code: z.string(), message: z.string() }),
});

/** The success envelope around a route's declared `data`. */
export const successEnvelopeSchema = (data: z.ZodType) => z.object({ success: z.literal(true), data });

const baseHeaders = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

export function success(data: unknown, statusCode = 200): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...baseHeaders }, body: JSON.stringify({ success: true, data }) };
}

export function failure(statusCode: number, code: ErrorCode, message: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...baseHeaders }, body: JSON.stringify({ success: false, error: { code, message } }) };
}

export function redirect(location: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}
