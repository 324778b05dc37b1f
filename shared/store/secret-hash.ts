import { createHash } from 'node:crypto';

/**
 * The stored form of a channel secret we choose and the provider presents back
 * (Google channel token, Graph clientState): its SHA-256, hex. Kept apart from
 * the subscription items' table code so the provider modules that hash secrets,
 * and everything importing the provider registry (the catalog endpoint), need
 * no DynamoDB client.
 */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');
