import type {
  DecryptCommand,
  DecryptCommandOutput,
  GenerateDataKeyCommand,
  GenerateDataKeyCommandOutput,
} from '@aws-sdk/client-kms';
import { randomBytes } from 'node:crypto';

/**
 * A counting stub of KMS for KmsBranchKeys (TOKEN_KMS_KEY_ARN mode) in the
 * bench process. Branch-key items live in the run's one dynalite table, so a
 * branch key one section generated is found by the next: the issued keys are
 * therefore kept per process (one "KMS service"), while each `CountingKms`
 * (one "client") counts only its own calls.
 */
export const BENCH_KMS_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-4000-8000-000000000000';

export type KmsCommandName = 'GenerateDataKey' | 'Decrypt';

interface IssuedKey {
  plaintext: Buffer;
  keyId: string;
  context: string;
}

/** Data keys the stub has issued in this process, by the id inside their blob. */
const issued = new Map<string, IssuedKey>();

const canonicalContext = (context: Record<string, string> | undefined): string =>
  JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Just enough of KMSClient for KmsBranchKeys: GenerateDataKey returns a real
 * random 256-bit key and an opaque blob naming it; Decrypt maps the blob back
 * (checking key id and encryption context, as KMS would). Every call is
 * counted. Pass the SDK's command classes (imported inside a section's `run`).
 */
export class CountingKms {
  readonly calls: Record<KmsCommandName, number> = { GenerateDataKey: 0, Decrypt: 0 };

  constructor(
    private readonly commands: { GenerateDataKey: typeof GenerateDataKeyCommand; Decrypt: typeof DecryptCommand },
  ) {}

  get total(): number {
    return this.calls.GenerateDataKey + this.calls.Decrypt;
  }

  snapshot(): Record<KmsCommandName, number> {
    return { ...this.calls };
  }

  async send(command: object): Promise<GenerateDataKeyCommandOutput | DecryptCommandOutput> {
    if (command instanceof this.commands.GenerateDataKey) {
      this.calls.GenerateDataKey += 1;
      const { KeyId, KeySpec, EncryptionContext } = command.input;
      if (!KeyId || KeySpec !== 'AES_256') throw new Error('CountingKms: GenerateDataKey needs KeyId and AES_256');
      const id = randomBytes(16).toString('hex');
      const plaintext = randomBytes(32);
      issued.set(id, { plaintext, keyId: KeyId, context: canonicalContext(EncryptionContext) });
      return {
        $metadata: {},
        KeyId,
        Plaintext: Uint8Array.from(plaintext),
        CiphertextBlob: Uint8Array.from(Buffer.from(`stub-kms:${id}`, 'utf8')),
      };
    }
    if (command instanceof this.commands.Decrypt) {
      this.calls.Decrypt += 1;
      const { CiphertextBlob, KeyId, EncryptionContext } = command.input;
      const match = /^stub-kms:([0-9a-f]{32})$/.exec(Buffer.from(CiphertextBlob ?? new Uint8Array()).toString('utf8'));
      const key = match?.[1] ? issued.get(match[1]) : undefined;
      if (!key) throw new Error('CountingKms: InvalidCiphertextException (unknown blob)');
      if (KeyId !== undefined && KeyId !== key.keyId) throw new Error('CountingKms: IncorrectKeyException');
      if (canonicalContext(EncryptionContext) !== key.context) {
        throw new Error('CountingKms: InvalidCiphertextException (encryption context mismatch)');
      }
      return { $metadata: {}, KeyId: key.keyId, Plaintext: Uint8Array.from(key.plaintext) };
    }
    throw new Error(`CountingKms: unsupported command ${command.constructor.name}`);
  }
}
