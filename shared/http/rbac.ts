/**
 * The role matrix, in one place (architecture §7): admin and HR may do
 * everything, a manager may read, an employee may do nothing.
 *
 * `integrations:act` (provider actions: post to Slack or Teams, book meetings,
 * send e-mail with the organisation's accounts) is admin and HR only: an
 * action speaks for the organisation to its people, and a manager's role
 * here is to read. The HR platform's own automations call it with an HR
 * or admin token.
 *
 * `integrations:event-endpoints` (register, list and delete outgoing webhook
 * endpoints, read their delivery logs) is admin only, reads included: an
 * endpoint decides where the organisation's events go and its URL may carry
 * the receiver's own credentials; that is configuration, not HR work.
 *
 * `integrations:sync` also covers the troubleshooting actions, a webhook test
 * event and a live health check: like a manual sync they make the service act
 * (a delivery through the webhook, a provider call that may change health or
 * disconnect a dead grant), so they are admin and HR only; the troubleshooting
 * reads (webhooks, webhook logs, alerts) are `integrations:read`.
 */
export const roles = ['admin', 'hr', 'manager', 'employee'] as const;
export type Role = (typeof roles)[number];

export const permissions = [
  'integrations:read',
  'integrations:connect',
  'integrations:disconnect',
  'integrations:sync',
  'integrations:configure',
  'integrations:export',
  'integrations:erase',
  'integrations:act',
  'integrations:event-endpoints',
] as const;
export type Permission = (typeof permissions)[number];

const matrix: Record<Role, ReadonlySet<Permission>> = {
  admin: new Set(permissions),
  hr: new Set(permissions.filter((permission) => permission !== 'integrations:event-endpoints')),
  manager: new Set(['integrations:read']),
  employee: new Set(),
};

export const can = (role: Role, permission: Permission): boolean => matrix[role].has(permission);
