import { KMSClient } from '@aws-sdk/client-kms';
import { vaultConfig } from '../config';
import { KmsBranchKeys } from './kms-branch-keys';
import { TokenVault } from './vault';
import { StaticWrappingKeys } from './wrapping-keys';
import { awsClientConfig, boundedByDeadline } from '../deadline';

let vault: TokenVault | undefined;

/** The container's token vault: KMS branch keys in AWS, the local keyring elsewhere. */
export function tokenVault(): TokenVault {
  if (!vault) {
    const config = vaultConfig();
    vault =
      config.mode === 'kms'
        ? new TokenVault(new KmsBranchKeys(boundedByDeadline(new KMSClient(awsClientConfig())), config.kmsKeyArn))
        : new TokenVault(new StaticWrappingKeys(config.currentKeyHex, config.previousKeysHex));
  }
  return vault;
}
