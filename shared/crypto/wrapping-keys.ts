import { createHash } from 'node:crypto';

/**
 * A wrapping key wraps the per-message data keys of the Encryption SDK.
 * Its name travels with every sealed token so the right key opens it.
 */
export interface WrappingKey {
  name: string;
  material: Uint8Array; // 32 bytes
}

export interface WrappingKeySource {
  /** The key new tokens are sealed with. */
  current(): Promise<WrappingKey>;
  /** Any key that may have sealed a stored token; undefined when unknown. */
  byName(name: string): Promise<WrappingKey | undefined>;
}

/**
 * Local and test keyring: `INTEGRATION_ENCRYPTION_KEY` seals, previous keys
 * still open what they sealed (rotation). A key's name is a fingerprint of
 * its material, so rotating never needs a name chosen by hand.
 */
export class StaticWrappingKeys implements WrappingKeySource {
  private readonly keys: WrappingKey[];

  constructor(currentHex: string, previousHex: readonly string[] = []) {
    this.keys = [currentHex, ...previousHex].map((hex) => {
      const material = Buffer.from(hex, 'hex');
      const fingerprint = createHash('sha256').update(material).digest('hex').slice(0, 16);
      return { name: `local-${fingerprint}`, material };
    });
  }

  async current(): Promise<WrappingKey> {
    return this.keys[0] as WrappingKey;
  }

  async byName(name: string): Promise<WrappingKey | undefined> {
    return this.keys.find((key) => key.name === name);
  }
}
