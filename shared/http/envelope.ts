import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ErrorCode } from '../domain/errors';

/** The documented response envelope: `{success:true,data}` or `{success:false,error:{code,message}}`. */
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
