import { describe, expect, it } from 'vitest';
import { providerCatalog } from '../../shared/providers/catalog';
import { catalog } from '../../shared/providers/registry';

/** The catalog endpoint reads the catalog module, the rest of the system the registry: both list the same providers, in the same order. */
describe('provider catalog', () => {
  it('is the registry’s catalog, entry for entry', () => {
    expect(providerCatalog).toEqual(catalog());
    expect(providerCatalog.length).toBeGreaterThan(0);
  });
});
