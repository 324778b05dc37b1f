import {
  AlgorithmSuiteIdentifier,
  CommitmentPolicy,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  buildClient,
} from '@aws-crypto/client-node';
import type { z } from 'zod';
import type { WrappingKey, WrappingKeySource } from './wrapping-keys';

/**
 * Token vault: AWS Encryption SDK messages (AES-256-GCM, HKDF-SHA512, key
 * commitment, no signature: the principals that encrypt and decrypt are the
 * same roles) whose data keys are wrapped by a wrapping key. The encryption
 * context binds a blob to its organisation, integration, provider and kind,
 * and is checked on every open because the SDK does not check it for us.
 */
export interface TokenContext {
  orgId: string;
  integrationId: string;
  provider: string;
  /** Which credential: e.g. `oauth`, `slack-bot`, `slack-user`. */
  kind: string;
}

export interface SealedToken {
  keyName: string;
  ciphertext: Uint8Array;
}

export class TokenContextMismatchError extends Error {
  constructor() {
    super('The sealed token belongs to another integration or kind');
    this.name = 'TokenContextMismatchError';
  }
}

export class UnknownWrappingKeyError extends Error {
  constructor(keyName: string) {
    super(`No wrapping key named ${keyName}`);
    this.name = 'UnknownWrappingKeyError';
  }
}

const KEY_NAMESPACE = 'hr-integrations';
const APP = 'hr-integrations';
const SUITE = AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY;

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

const encryptionContext = (context: TokenContext): Record<string, string> => ({
  app: APP,
  orgId: context.orgId,
  integrationId: context.integrationId,
  provider: context.provider,
  kind: context.kind,
});

export class TokenVault {
  private readonly keyrings = new Map<string, RawAesKeyringNode>();

  constructor(private readonly keys: WrappingKeySource) {}

  private keyring(key: WrappingKey): RawAesKeyringNode {
    let keyring = this.keyrings.get(key.name);
    if (!keyring) {
      keyring = new RawAesKeyringNode({
        keyName: key.name,
        keyNamespace: KEY_NAMESPACE,
        unencryptedMasterKey: Uint8Array.from(key.material),
        wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
      });
      this.keyrings.set(key.name, keyring);
    }
    return keyring;
  }

  async seal(plaintext: Uint8Array | string, context: TokenContext): Promise<SealedToken> {
    const key = await this.keys.current();
    const { result } = await encrypt(this.keyring(key), plaintext, {
      encryptionContext: encryptionContext(context),
      suiteId: SUITE,
    });
    return { keyName: key.name, ciphertext: result };
  }

  async open(sealed: SealedToken, context: TokenContext): Promise<Buffer> {
    const key = await this.keys.byName(sealed.keyName);
    if (!key) throw new UnknownWrappingKeyError(sealed.keyName);
    const { plaintext, messageHeader } = await decrypt(this.keyring(key), sealed.ciphertext);
    const expected = encryptionContext(context);
    const actual = messageHeader.encryptionContext;
    const matches =
      Object.keys(actual).length === Object.keys(expected).length &&
      Object.entries(expected).every(([name, value]) => actual[name] === value);
    if (!matches) throw new TokenContextMismatchError();
    return plaintext;
  }

  async sealJson(value: unknown, context: TokenContext): Promise<SealedToken> {
    return this.seal(JSON.stringify(value), context);
  }

  async openJson<S extends z.ZodType>(sealed: SealedToken, context: TokenContext, schema: S): Promise<z.infer<S>> {
    const plaintext = await this.open(sealed, context);
    return schema.parse(JSON.parse(plaintext.toString('utf8')));
  }
}
