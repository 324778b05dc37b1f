import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { createHmac, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { handleNotionDelivery } from '../../shared/providers/notion/webhook';
import { dynamo, tableName } from '../../shared/store/client';
import { keys } from '../../shared/store/keys';
import { providerWebhookKeys } from '../../shared/store/provider-webhook-keys';

/**
 * Notion's verification post cannot be authenticated, so anyone may post a
 * token: once a real event has proven one, self-made tokens must neither
 * verify events nor push the proven one out.
 */
const sign = (body: string, token: string) => `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;
const post = (body: object, token: string) => {
  const raw = JSON.stringify(body);
  return handleNotionDelivery(Buffer.from(raw), sign(raw, token));
};
const event = (entityId = randomUUID()) => ({ id: randomUUID(), type: 'page.content_updated', workspace_id: randomUUID(), entity: { id: entityId, type: 'page' } });

beforeEach(async () => {
  await dynamo().send(new DeleteCommand({ TableName: tableName(), Key: { pk: keys.providerWebhookKeys('notion'), sk: keys.providerWebhookKeysSk } }));
});

describe('Notion verification tokens', () => {
  it('once an event proved the real token, tokens anyone posts neither verify events nor evict it', async () => {
    expect((await post({ verification_token: 'real-token' }, 'real-token')).status).toBe(200);
    expect((await post(event(), 'real-token')).status).toBe(200);

    for (const forged of ['atk1', 'atk2', 'atk3']) {
      expect((await post({ verification_token: forged }, forged)).status).toBe(200);
      expect((await post(event(), forged)).status).toBe(401);
    }
    expect((await post(event(), 'real-token')).status).toBe(200);
    expect((await providerWebhookKeys('notion')).filter((key) => key.confirmedAt).map((key) => key.key)).toEqual(['real-token']);
  });

  it('a body that fails validation proves nothing', async () => {
    expect((await post({ verification_token: 'self-made' }, 'self-made')).status).toBe(200);
    expect((await post({ not: 'an event' }, 'self-made')).status).toBe(400);
    expect((await providerWebhookKeys('notion')).find((key) => key.key === 'self-made')?.confirmedAt).toBeUndefined();
  });
});
