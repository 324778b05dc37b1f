import { parseArgs } from 'node:util';
import * as z from 'zod';
import { roles } from '../../shared/http/rbac';
import { orgIdSchema } from '../../shared/http/principal';
import { mintLocalToken } from './jwt';
import { localEnv, localKeys } from './local-config';

/**
 * `npm run -s token -- --org <id> --role <role> [--sub <user>] [--ttl <seconds>]`
 * prints a local JWT (HS256, LOCAL_JWT_SECRET) for the local runtime.
 */
const argsSchema = z.object({
  org: orgIdSchema,
  role: z.enum(roles),
  sub: z.string().min(1).default('local-user'),
  ttl: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(3600),
});

try {
  const { values } = parseArgs({
    options: { org: { type: 'string' }, role: { type: 'string' }, sub: { type: 'string' }, ttl: { type: 'string' } },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`).join('\n  ');
    process.stderr.write(
      `Usage: npm run -s token -- --org <org-id> --role <${roles.join('|')}> [--sub <user-id>] [--ttl <seconds>]\n  ${problems}\n`,
    );
    process.exit(2);
  }
  const { jwtSecret } = localKeys(localEnv());
  const token = await mintLocalToken(jwtSecret, {
    orgId: parsed.data.org,
    role: parsed.data.role,
    sub: parsed.data.sub,
    ttlSeconds: parsed.data.ttl,
  });
  process.stdout.write(`${token}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
