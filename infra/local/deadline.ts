/** Resolves at `deadline` (epoch ms); `cancel` lets the process exit without waiting for it. */
export function timerUntil(deadline: number): { reached: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const reached = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
  return { reached, cancel: () => clearTimeout(timer) };
}

/** Whether `work` settles (either way) before `deadline`. */
export async function settlesBy(work: Promise<unknown>, deadline: number): Promise<boolean> {
  const timer = timerUntil(deadline);
  const settled = work.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timer.reached.then(() => false)]);
  timer.cancel();
  return result;
}
