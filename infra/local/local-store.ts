import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirInUseError, lockDataDir, prepareDataDir } from './data-dir';
import { ensureTable, startEmbeddedDynamo } from './embedded-store';

/**
 * The local runtime's store for commands run beside it (operator commands
 * such as `npm run notion-webhook`). The store is LevelDB under
 * `DATA_DIR/dynamodb`, which one process opens at a time: while a runtime
 * holds DATA_DIR, a command reaches the runtime's own dynalite at the
 * endpoint the runtime announced in DATA_DIR; otherwise the command takes
 * DATA_DIR's lock for as long as it runs and opens the store on disk itself.
 */
const storePath = (dataDir: string) => join(dataDir, 'dynamodb');
const endpointFile = (dataDir: string) => join(dataDir, 'store-endpoint');

/** Called by the runtime once its store listens (DATA_DIR is owner-only, and so is this file). */
export function announceStoreEndpoint(dataDir: string, endpoint: string): void {
  writeFileSync(endpointFile(dataDir), endpoint, { mode: 0o600 });
}

export interface LocalStore {
  /** The DynamoDB endpoint (dynalite) to send commands to. */
  endpoint: string;
  /** Closes the store if this process opened it, and frees DATA_DIR. */
  close(): Promise<void>;
}

export async function openLocalStore(dataDir: string, tableName: string): Promise<LocalStore> {
  if (!existsSync(storePath(dataDir))) throw new Error(`No local store under ${dataDir}: start the local runtime once (npm start), or set DATA_DIR to its data`);
  let lock;
  try {
    lock = lockDataDir(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirInUseError)) throw error;
    // A runtime holds DATA_DIR: its dynalite, which it announced once listening.
    if (!existsSync(endpointFile(dataDir))) throw new Error(`The local runtime using ${dataDir} is still starting: try again in a moment`);
    return { endpoint: readFileSync(endpointFile(dataDir), 'utf8').trim(), close: async () => undefined };
  }
  try {
    // Files the store writes are owner-only, as the runtime's are.
    prepareDataDir(dataDir);
    const dynamo = await startEmbeddedDynamo({ path: storePath(dataDir) });
    await ensureTable(dynamo.endpoint, tableName);
    return {
      endpoint: dynamo.endpoint,
      close: async () => {
        await dynamo.close();
        lock.release();
      },
    };
  } catch (error) {
    lock.release();
    throw error;
  }
}
