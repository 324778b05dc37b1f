/** Runs `work` over `items`, at most `concurrency` at a time (provider and AWS calls must not all start together). */
export async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<unknown>, concurrency = 25): Promise<void> {
  for (let start = 0; start < items.length; start += concurrency) {
    await Promise.all(items.slice(start, start + concurrency).map(work));
  }
}
