import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
 * The announcement lives only while the runtime's store does: a command
 * never reads an endpoint a previous run left, which may be refused or,
 * worse, be another runtime's store that took the same port.
 */
const storePath = (dataDir: string) => join(dataDir, 'dynamodb');
const endpointFile = (dataDir: string) => join(dataDir, 'store-endpoint');

const readEndpoint = (dataDir: string) => {
  try {
    return readFileSync(endpointFile(dataDir), 'utf8').trim();
  } catch {
    return undefined;
  }
};

/**
 * Called by the runtime as soon as it holds DATA_DIR: removes what a previous
 * run left (a crash, kill -9), and removes this run's announcement when the
 * process ends. Returns the announcement, made once the store listens
 * (DATA_DIR is owner-only, and so is the file).
 */
export function storeEndpointAnnouncement(dataDir: string): (endpoint: string) => void {
  const file = endpointFile(dataDir);
  rmSync(file, { force: true });
  let announced: string | undefined;
  // Only this run's: DATA_DIR's lock goes first on exit, and the next runtime may already have announced its own.
  process.once('exit', () => {
    if (announced !== undefined && readEndpoint(dataDir) === announced) rmSync(file, { force: true });
  });
  return (endpoint) => {
    // Written aside, then renamed over: a command never reads half an endpoint.
    writeFileSync(`${file}.tmp`, endpoint, { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    announced = endpoint;
  };
}

/** What a command beside the runtime says when the announced store does not answer, or none is announced yet. */
export const runtimeStoreUnavailable = (dataDir: string) =>
  `The local runtime using ${dataDir} is still starting, or its store is gone (it is stopping): try again in a moment`;

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
    const endpoint = readEndpoint(dataDir);
    if (!endpoint) throw new Error(runtimeStoreUnavailable(dataDir));
    return { endpoint, close: async () => undefined };
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
