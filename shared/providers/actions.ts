import type * as z from 'zod';
import type { ActionResult, ProviderAction } from './types';

interface ActionSpec<Client, Input extends z.ZodType> {
  name: string;
  credentialKind: string;
  requiredScope: string;
  client: Client;
  input: Input;
  run(client: Client, accessToken: string, input: z.output<Input>): Promise<ActionResult>;
}

/**
 * One provider action, typed end to end inside its provider's module and
 * erased to `ProviderAction` for the registry: the input schema and `run`
 * stay together, so nothing outside the provider sees an unvalidated input.
 */
export function defineAction<Client, Input extends z.ZodType>(spec: ActionSpec<Client, Input>): ProviderAction {
  return {
    name: spec.name,
    credentialKind: spec.credentialKind,
    requiredScope: spec.requiredScope,
    validate(input) {
      const parsed = spec.input.safeParse(input);
      if (!parsed.success) return { success: false, error: parsed.error };
      return { success: true, run: (accessToken) => spec.run(spec.client, accessToken, parsed.data) };
    },
  };
}
