/**
 * Whether `work` settles, fulfilled or rejected, within `ms`: for a stop that waits on a peer (a
 * broker's acknowledgement, a store's write) as long as it should and then goes on without it. What
 * `work` settled to is for whoever awaits it; a rejection, in time or late, is handled here, so a
 * peer that fails after the wait never raises an unhandled rejection. The timer holds the process
 * open while it runs: a stop at SIGTERM must get past its wait to what comes after it.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  const settled = work.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}
