import { SANDBOX_CLIENTS, SANDBOX_DEFAULT_ACCOUNTS } from './clients';
import { stableChars, UPPER_ALNUM } from './ids';
import type { SlackChannelRecord } from './state';

/**
 * Slack identities derived from the team id (the same team always has the
 * same app, bot, users and seeded channels), and the Slack shapes of users
 * and channels as the sync data stores them.
 */

export interface SlackUser {
  id: string;
  name: string;
  realName: string;
  email?: string;
  isBot: boolean;
  isAdmin: boolean;
  botId?: string;
}

/** When the seeded users and channels were created (a fixed, stable time). */
export const SLACK_SEED_TIME = 1_700_000_000;

export function slackTeam(teamId: string) {
  const name = teamId === SANDBOX_DEFAULT_ACCOUNTS.slack ? 'Sandbox Workspace' : `Sandbox Workspace ${teamId}`;
  const domain = `sandbox-${teamId.toLowerCase()}`;
  const appId = `A${stableChars(`slack-app:${SANDBOX_CLIENTS.slack.clientId}`, 10, UPPER_ALNUM)}`;
  const user = (key: string, name: string, realName: string, isAdmin: boolean): SlackUser => ({
    id: `U${stableChars(`slack-user:${teamId}:${key}`, 10, UPPER_ALNUM)}`,
    name,
    realName,
    email: `${name}@${domain}.sandbox-slack.test`,
    isBot: false,
    isAdmin,
  });
  const admin = user('admin', 'sandbox.admin', 'Sandbox Admin', true);
  const members = [
    user('member-1', 'jane.doe', 'Jane Doe', false),
    user('member-2', 'john.roe', 'John Roe', false),
    user('member-3', 'alex.kim', 'Alex Kim', false),
  ];
  const bot: SlackUser = {
    id: `U${stableChars(`slack-bot-user:${teamId}:${appId}`, 10, UPPER_ALNUM)}`,
    name: 'sandbox-hr-bot',
    realName: 'Sandbox HR Bot',
    isBot: true,
    isAdmin: false,
    botId: `B${stableChars(`slack-bot:${teamId}:${appId}`, 10, UPPER_ALNUM)}`,
  };
  const seededChannels: SlackChannelRecord[] = ['general', 'random'].map((channel) => ({
    id: `C${stableChars(`slack-channel:${teamId}:${channel}`, 10, UPPER_ALNUM)}`,
    teamId,
    name: channel,
    isPrivate: false,
    created: SLACK_SEED_TIME,
    creator: admin.id,
  }));
  /** The verification token of the app's Events API envelopes (deprecated by Slack, still sent). */
  const verificationToken = stableChars(`slack-verification-token:${appId}`, 24, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  return { id: teamId, name, domain, appId, admin, bot, members, users: [admin, bot, ...members], seededChannels, verificationToken };
}

export type SlackTeam = ReturnType<typeof slackTeam>;

/** A Slack user object (users.info, users.list) as stored. */
export function slackUserObject(teamId: string, user: SlackUser, updatedSeconds: number): Record<string, unknown> {
  const [first = user.realName, ...rest] = user.realName.split(' ');
  return {
    id: user.id,
    team_id: teamId,
    name: user.name,
    deleted: false,
    color: '9f69e7',
    real_name: user.realName,
    tz: 'Europe/London',
    tz_label: 'Greenwich Mean Time',
    tz_offset: 0,
    profile: {
      title: '',
      phone: '',
      real_name: user.realName,
      real_name_normalized: user.realName,
      display_name: user.name,
      display_name_normalized: user.name,
      first_name: first,
      last_name: rest.join(' '),
      ...(user.email ? { email: user.email } : {}),
      ...(user.botId ? { bot_id: user.botId } : {}),
      team: teamId,
    },
    is_admin: user.isAdmin,
    is_owner: user.isAdmin,
    is_primary_owner: user.isAdmin,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: user.isBot,
    is_app_user: false,
    updated: updatedSeconds,
    is_email_confirmed: !user.isBot,
  };
}

/** A channel as the sync data stores it: the conversation's fields plus its `members` (never sent as such). */
export function slackChannelValue(channel: SlackChannelRecord, members: string[]): Record<string, unknown> {
  return {
    id: channel.id,
    name: channel.name,
    is_private: channel.isPrivate,
    created: channel.created,
    creator: channel.creator,
    is_archived: false,
    is_general: channel.name === 'general',
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    members,
    updated: channel.created * 1000,
  };
}

/** The Slack conversation object of a stored channel (conversations.create, conversations.list). */
export function slackChannelObject(value: Record<string, unknown>): Record<string, unknown> {
  const members = Array.isArray(value.members) ? value.members.filter((member): member is string => typeof member === 'string') : [];
  const name = typeof value.name === 'string' ? value.name : '';
  const { members: _members, ...fields } = value;
  return {
    id: value.id,
    name,
    is_channel: true,
    is_group: false,
    is_im: false,
    created: value.created,
    creator: value.creator,
    is_archived: value.is_archived === true,
    is_general: value.is_general === true,
    unlinked: 0,
    name_normalized: name,
    is_shared: false,
    is_ext_shared: false,
    is_org_shared: false,
    pending_shared: [],
    is_pending_ext_shared: false,
    // The sandbox's bot can post anywhere; members lists who has joined.
    is_member: true,
    is_private: value.is_private === true,
    is_mpim: false,
    last_read: '0000000000.000000',
    latest: null,
    unread_count: 0,
    unread_count_display: 0,
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
    previous_names: [],
    priority: 0,
    ...fields,
    num_members: members.length,
  };
}
