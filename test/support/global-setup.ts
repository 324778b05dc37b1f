import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureTable, startEmbeddedDynamo } from '../../infra/local/embedded-store';

export const TEST_TABLE = 'integrations-test';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    auditDir: string;
  }
}

export default async function setup(project: TestProject) {
  const dynamo = await startEmbeddedDynamo();
  await ensureTable(dynamo.endpoint, TEST_TABLE);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  // Every log line of the run (test workers and local runtimes) and every secret the sandboxes issue land here.
  const auditDir = mkdtempSync(join(tmpdir(), 'hr-integrations-audit-'));
  project.provide('auditDir', auditDir);
  return async () => {
    await dynamo.close();
    const hits = auditLogs(auditDir);
    rmSync(auditDir, { recursive: true, force: true });
    if (hits.found > 0) throw new Error(`Log audit: ${hits.found} of ${hits.secrets} issued secrets appear in captured log lines`);
    process.stdout.write(`Log audit: ${hits.lines} log lines searched for ${hits.secrets} issued tokens and codes: 0 hits\n`);
  };
}

/** Searches every captured log line for every issued secret. */
function auditLogs(dir: string): { secrets: number; lines: number; found: number } {
  const files = readdirSync(dir);
  const secrets = new Set(
    files.filter((file) => file.startsWith('secrets')).flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n').filter((line) => line.length >= 16)),
  );
  const logs = files.filter((file) => file.startsWith('log')).map((file) => readFileSync(join(dir, file), 'utf8')).join('\n');
  let found = 0;
  for (const secret of secrets) if (logs.includes(secret)) found += 1;
  return { secrets: secrets.size, lines: logs.split('\n').length, found };
}
