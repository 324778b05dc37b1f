import { Logger } from '@aws-lambda-powertools/logger';
import { redactingReplacer } from './redact';

/** The one structured logger (Powertools), with redaction applied to every key and value it prints. */
export const logger = new Logger({
  serviceName: 'hr-integrations',
  jsonReplacerFn: redactingReplacer,
});
