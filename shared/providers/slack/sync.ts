import type { ProviderSync } from '../../sync/types';
import { slackClient } from './client';
import { SLACK_BOT } from './oauth';

/**
 * Slack has no change feed for users and channels: each pass lists them
 * (cursor pagination, resumable page by page); deleted users become
 * tombstones, archived channels stay with `isArchived`.
 */
export const slackSync: ProviderSync = {
  credentialKind: SLACK_BOT,
  resources: {
    users: {
      keepCursorAfterPass: false,
      async pull({ accessToken, cursor }) {
        const page = await slackClient.listUsers(accessToken, cursor);
        return {
          changes: page.items.map((user) =>
            user.deleted
              ? { externalId: user.id, op: 'delete' as const }
              : {
                  externalId: user.id,
                  op: 'upsert' as const,
                  data: {
                    name: user.name ?? null,
                    realName: user.real_name ?? null,
                    displayName: user.profile?.display_name ?? null,
                    email: user.profile?.email ?? null,
                    title: user.profile?.title ?? null,
                    timeZone: user.tz ?? null,
                    isBot: user.is_bot ?? false,
                    isAdmin: user.is_admin ?? false,
                  },
                },
          ),
          cursor: page.nextCursor,
          complete: page.nextCursor === undefined,
        };
      },
    },
    channels: {
      keepCursorAfterPass: false,
      async pull({ accessToken, cursor }) {
        const page = await slackClient.listChannels(accessToken, cursor);
        return {
          changes: page.items.map((channel) => ({
            externalId: channel.id,
            op: 'upsert' as const,
            data: {
              name: channel.name ?? null,
              isPrivate: channel.is_private ?? false,
              isArchived: channel.is_archived ?? false,
              memberCount: channel.num_members ?? null,
              topic: channel.topic?.value ?? null,
            },
          })),
          cursor: page.nextCursor,
          complete: page.nextCursor === undefined,
        };
      },
    },
  },
};
