import * as z from 'zod';
import { jsonResponse, parseBody, type SandboxRequest, type SandboxResponse } from './http';

/**
 * What a fake's own control routes (`/_control/<provider>/…`) share: the
 * route as `METHOD /path`, a JSON body, and the 400 for a body its schema refuses.
 */
export function controlRoute(request: SandboxRequest): { route: string; input: unknown } {
  const body = parseBody(request);
  return { route: `${request.method} ${request.path.replace(/\/+$/, '')}`, input: body.kind === 'json' ? body.value : {} };
}

/** The parsed control input, or the 400 answer naming what was wrong. */
export function controlInput<S extends z.ZodType>(schema: S, input: unknown): { value: z.output<S> } | SandboxResponse {
  const parsed = schema.safeParse(input);
  return parsed.success ? { value: parsed.data } : jsonResponse(400, { error: z.prettifyError(parsed.error) });
}
