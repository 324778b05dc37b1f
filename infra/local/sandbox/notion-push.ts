import { createHmac } from 'node:crypto';
import { randomChars, randomId, stableUuid } from './ids';
import { notionWorkspaceName, type NotionData, type NotionObject } from './notion-data';
import type { Deliverer } from './push';
import { recordIssuedSecret } from './secrets-ledger';
import type { SandboxStore } from './state';

/**
 * Notion webhooks of the sandbox's public integration. Creating the
 * subscription (what the app owner does in Notion's integration settings)
 * POSTs `{verification_token}` once to the URL; the owner then pastes that
 * token back into Notion (`verify`), and only then do events flow. Every
 * delivery, the verification post included, carries
 * `X-Notion-Signature: sha256=<hex HMAC-SHA256 of the body under the token>`.
 */
export const notionSignature = (body: string, token: string): string => `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;

const INTEGRATION_ID = stableUuid('notion-sandbox-integration');
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export type NotionEventType = 'page.created' | 'page.content_updated' | 'page.properties_updated' | 'page.deleted' | 'database.created' | 'database.deleted';

export function createNotionPush(store: SandboxStore, data: NotionData, deliverer: Deliverer) {
  async function post(body: string, token: string, type: string, url: string): Promise<number | null> {
    const outcome = await deliverer.send(url, { headers: { 'content-type': 'application/json', 'x-notion-signature': notionSignature(body, token) }, body });
    const subscription = data.state.subscription;
    if (subscription) {
      subscription.deliveries.push({ at: new Date(store.now()).toISOString(), type, status: outcome.status });
      if (subscription.deliveries.length > 100) subscription.deliveries.splice(0, subscription.deliveries.length - 100);
      store.touch();
    }
    return outcome.status;
  }

  return {
    /** The app owner creates the subscription: the verification token is posted to the webhook URL. */
    async subscribe(url = data.state.webhookUrl): Promise<{ subscriptionId: string; status: number | null }> {
      if (!url) throw new RangeError('no webhook URL: connect the webhook or give a url');
      const token = `secret_${randomChars(43, ALNUM)}`;
      recordIssuedSecret(token);
      const subscription = { id: randomId(), url, verificationToken: token, verified: false, deliveries: [] };
      data.state.subscription = subscription;
      store.touch();
      const status = await deliverer.enqueue('notion:subscription', () => post(JSON.stringify({ verification_token: token }), token, 'verification', url));
      return { subscriptionId: subscription.id, status };
    },

    /** The owner pastes a token into Notion's "Verify subscription" form: only the one Notion sent verifies it; a wrong one changes nothing. */
    verify(token: string): boolean {
      const subscription = data.state.subscription;
      if (!subscription) return false;
      subscription.verified ||= token === subscription.verificationToken;
      store.touch();
      return subscription.verified;
    },

    /** An event for a changed page or database, once the subscription is verified; resolves to the app's status. */
    notify(type: NotionEventType, object: NotionObject, account: string, attempt = 1): Promise<number | null> | undefined {
      const subscription = data.state.subscription;
      if (!subscription?.verified) return undefined;
      const body = JSON.stringify({
        id: randomId(),
        timestamp: new Date(store.now()).toISOString(),
        workspace_id: object.workspaceId,
        workspace_name: notionWorkspaceName(account),
        subscription_id: subscription.id,
        integration_id: INTEGRATION_ID,
        authors: [{ id: stableUuid(`notion-user:${account}`), type: 'person' }],
        attempt_number: attempt,
        api_version: '2022-06-28',
        type,
        entity: { id: object.id, type: object.object },
        data: { parent: object.parentId ? { id: object.parentId, type: 'page' } : { id: object.workspaceId, type: 'space' } },
      });
      return deliverer.enqueue('notion:events', () => post(body, subscription.verificationToken, type, subscription.url));
    },

    status: () => {
      const subscription = data.state.subscription;
      return subscription ? { id: subscription.id, url: subscription.url, verified: subscription.verified, deliveries: subscription.deliveries } : null;
    },
  };
}
