/**
 * Sets (undefined: removes) environment variables of the bench process for an
 * in-process section; the returned function puts the previous values back.
 */
export function overrideEnv(changes: Record<string, string | undefined>): () => void {
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  const previous = Object.fromEntries(Object.keys(changes).map((name) => [name, process.env[name]]));
  apply(changes);
  return () => apply(previous);
}
