import type { FunctionSpec, HttpMethod } from '../manifest';

/**
 * API Gateway route selection: a route's literal segments beat `{param}`
 * segments, which beat a greedy `{proxy+}`; so `/api/integrations/providers`
 * wins over `/api/integrations/{id}`.
 */
interface CompiledRoute<T> {
  target: T;
  method: HttpMethod;
  routeKey: string;
  segments: string[];
  score: number;
}

export interface RouteMatch<T> {
  target: T;
  routeKey: string;
  pathParameters: Record<string, string>;
}

export type RouteLookup<T> = { kind: 'match'; match: RouteMatch<T> } | { kind: 'method_not_allowed' } | { kind: 'none' };

export class Router<T extends { spec: FunctionSpec }> {
  private readonly routes: CompiledRoute<T>[];

  constructor(targets: readonly T[]) {
    this.routes = targets
      .flatMap((target) => {
        const trigger = target.spec.trigger;
        if (trigger.kind !== 'http') return [];
        const segments = trigger.path.split('/').filter(Boolean);
        const score = segments.reduce(
          (total, segment) => total * 3 + (segment.endsWith('+}') ? 0 : segment.startsWith('{') ? 1 : 2),
          0,
        );
        return [{ target, method: trigger.method, routeKey: `${trigger.method} ${trigger.path}`, segments, score }];
      })
      .sort((a, b) => b.segments.length - a.segments.length || b.score - a.score);
  }

  lookup(method: string, path: string): RouteLookup<T> {
    const parts = path.split('/').filter(Boolean);
    let pathMatched = false;
    for (const route of this.routes) {
      const pathParameters = matchSegments(route.segments, parts);
      if (!pathParameters) continue;
      pathMatched = true;
      if (route.method === method) return { kind: 'match', match: { target: route.target, routeKey: route.routeKey, pathParameters } };
    }
    return pathMatched ? { kind: 'method_not_allowed' } : { kind: 'none' };
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let index = 0; index < template.length; index += 1) {
    const segment = template[index] as string;
    if (segment.startsWith('{') && segment.endsWith('+}')) {
      if (index >= parts.length) return undefined;
      params[segment.slice(1, -2)] = parts.slice(index).map(safeDecode).join('/');
      return params;
    }
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.startsWith('{') && segment.endsWith('}')) params[segment.slice(1, -1)] = safeDecode(part);
    else if (segment !== part) return undefined;
  }
  return template.length === parts.length ? params : undefined;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
