import type { ProviderDefinition } from '../types';
import { asanaCatalog } from './catalog';

export const asana: ProviderDefinition = {
  catalog: asanaCatalog,
};
