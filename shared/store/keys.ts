/** Key builders: the only place item keys are spelled. */
export const keys = {
  org: (orgId: string) => `ORG#${orgId}`,
  integration: (integrationId: string) => `INT#${integrationId}`,
  integrationPrefix: 'INT#',
  /** Tokens live under their own prefix so listing integrations never reads ciphertext. */
  tokens: (integrationId: string) => `TOKENS#${integrationId}`,
  keyringPk: 'KEYRING',
  branchKey: (version: number) => `BRANCH#${String(version).padStart(6, '0')}`,
  branchKeyPrefix: 'BRANCH#',
} as const;
