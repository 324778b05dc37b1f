/** Key builders: the only place item keys are spelled. */
export const keys = {
  org: (orgId: string) => `ORG#${orgId}`,
  integration: (integrationId: string) => `INT#${integrationId}`,
  integrationPrefix: 'INT#',
  /** Tokens live under their own prefix so listing integrations never reads ciphertext. */
  tokens: (integrationId: string) => `TOKENS#${integrationId}`,
  /** OAuth state lives in its own partition: looked up by the state value alone, at the public callback. */
  oauthState: (state: string) => `STATE#${state}`,
  oauthStateSk: 'STATE',
  consent: (integrationId: string, at: string) => `CONSENT#${integrationId}#${at}`,
  consentPrefix: (integrationId: string) => `CONSENT#${integrationId}#`,
  /** Routing GSI: an external account (Slack team, Google user, Microsoft tenant:user) to its integrations. */
  accountRoute: (providerId: string, accountId: string) => `ACCOUNT#${providerId}#${accountId}`,
  accountRouteSk: (orgId: string, integrationId: string) => `ORG#${orgId}#INT#${integrationId}`,
  /** Due GSI sort key of a token refresh: `REFRESH#<iso time>`. */
  refreshDue: (at: string) => `REFRESH#${at}`,
  refreshDuePrefix: 'REFRESH#',
  subscription: (integrationId: string, subscriptionId: string) => `SUB#${integrationId}#${subscriptionId}`,
  subscriptionPrefix: (integrationId: string) => `SUB#${integrationId}#`,
  /** Routing GSI: a push channel / Graph subscription / Gmail address to its integration. */
  subscriptionRoute: (channel: string, subscriptionId: string) => `SUB#${channel}#${subscriptionId}`,
  /** Due GSI sort key of a subscription renewal: `RENEW#<iso time>`. */
  renewDue: (at: string) => `RENEW#${at}`,
  renewDuePrefix: 'RENEW#',
  /** Webhook deliveries already accepted, by provider and the provider's event id. */
  webhookEvent: (providerId: string, eventId: string) => `EVT#${providerId}#${eventId}`,
  webhookEventSk: 'EVT',
  /** A provider's app-level webhook verification token (Notion's) that an operator pinned. */
  webhookTokenPinned: (providerId: string) => `WEBHOOKTOKEN#${providerId}`,
  webhookTokenPinnedSk: 'PINNED',
  /** One token received, in a partition of its own (spam writes never crowd the pinned token's). */
  webhookTokenCandidate: (providerId: string, tokenHash: string) => `WEBHOOKTOKEN#${providerId}#${tokenHash}`,
  webhookTokenCandidateSk: 'CANDIDATE',
  /** Routing GSI: a provider's candidate verification tokens, by `<receivedAt>#<token hash>` (newest first when read backwards). */
  webhookTokenCandidatesRoute: (providerId: string) => `WEBHOOKTOKEN#${providerId}#CANDIDATES`,
  /** One integration per organisation, provider and external account: the claim names the integration that holds it. */
  accountClaim: (providerId: string, accountId: string) => `ACCOUNT#${providerId}#${accountId}`,
  /** Connect, reconnect, disconnect and erasure of one integration run one at a time under this lease. */
  lifecycleLock: (integrationId: string) => `LIFECYCLE#${integrationId}`,
  /** One daily check of an integration's Asana webhooks at a time (a claim apart from the lifecycle lease: the check calls Asana). */
  asanaWebhookCheck: (integrationId: string) => `ASANACHECK#${integrationId}`,
  /** A grant exchanged at the callback, waiting for its initiator to complete it (its own partition: looked up by id alone). */
  pendingGrant: (pendingId: string) => `PENDING#${pendingId}`,
  pendingGrantSk: 'PENDING',
  /** Due GSI sort key of an abandoned pending grant's revocation: `ABANDON#<iso time>`. */
  abandonDue: (at: string) => `ABANDON#${at}`,
  abandonDuePrefix: 'ABANDON#',
  /** When a provider authorization shared by every consent of one user (Google) was last revoked: `AUTHZ#<provider>#<account>`. */
  authorizationRevoked: (providerId: string, accountId: string) => `AUTHZ#${providerId}#${accountId}`,
  authorizationRevokedSk: 'REVOKED',
  /** One run of a provider action, in the integration's action history (newest last by time). */
  actionRun: (integrationId: string, at: string, runId: string) => `ACTION#${integrationId}#${at}#${runId}`,
  actionRunPrefix: (integrationId: string) => `ACTION#${integrationId}#`,
  /** A caller's Idempotency-Key for an action of one integration: a retry with it runs nothing again. */
  idempotencyKey: (integrationId: string, key: string) => `IDEMPOTENCY#${integrationId}#${key}`,
  idempotencyKeyPrefix: (integrationId: string) => `IDEMPOTENCY#${integrationId}#`,
  /** An open alert of an organisation (`-` for org-level ones) of one kind: one item per org, integration and kind while open. */
  alert: (integrationId: string | undefined, kind: string) => `ALERT#${integrationId ?? '-'}#${kind}`,
  alertPrefix: 'ALERT#',
  integrationAlertPrefix: (integrationId: string) => `ALERT#${integrationId}#`,
  /** An organisation's outgoing webhook endpoint (its signing secret sealed on the item; listing projects it away). */
  eventEndpoint: (endpointId: string) => `EVENTENDPOINT#${endpointId}`,
  eventEndpointPrefix: 'EVENTENDPOINT#',
  /** One event on its way to one endpoint: `EVENTMSG#<endpoint>#<event id>` (the event id makes EventBridge's retries land on the same item). */
  eventMessage: (endpointId: string, eventId: string) => `EVENTMSG#${endpointId}#${eventId}`,
  /** One delivery attempt, in the endpoint's log (newest last by time). */
  eventAttempt: (endpointId: string, at: string, messageId: string, attempt: number) =>
    `EVENTATTEMPT#${endpointId}#${at}#${messageId}#${String(attempt).padStart(2, '0')}`,
  eventAttemptPrefix: (endpointId: string) => `EVENTATTEMPT#${endpointId}#`,
  /** Due GSI sort key of an outgoing delivery's next attempt: `OUTGOING#<iso time>`. */
  outgoingDue: (at: string) => `OUTGOING#${at}`,
  outgoingDuePrefix: 'OUTGOING#',
  /** One webhook delivery attributed to an integration (newest last by time); expires after 30 days. */
  webhookLog: (integrationId: string, at: string, deliveryId: string) => `WHLOG#${integrationId}#${at}#${deliveryId}`,
  webhookLogPrefix: (integrationId: string) => `WHLOG#${integrationId}#`,
  /** A one-time test delivery's secret (its own partition: the webhook finds it by the id in the presented token). */
  webhookTest: (testId: string) => `WHTEST#${testId}`,
  webhookTestSk: 'WHTEST',
  keyringPk: 'KEYRING',
  branchKey: (version: number) => `BRANCH#${String(version).padStart(6, '0')}`,
  branchKeyPrefix: 'BRANCH#',
} as const;
