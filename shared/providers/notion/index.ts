import type { ProviderDefinition } from '../types';
import { notionCatalog } from './catalog';

export const notion: ProviderDefinition = {
  catalog: notionCatalog,
};
