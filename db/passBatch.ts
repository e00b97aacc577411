/**
 * Collects what is added during one pass of the event loop and hands all of it over together,
 * once the pass is over (setImmediate): the turn worker's arriving turns (bot/turnWorker.ts),
 * the group commits and batched reads of db/sql.ts, and the benchmark's stateful echo
 * (bench/echoBot.mjs). Written here because it is a few lines around setImmediate.
 */
export function createPassBatch<T>(take: (items: T[]) => void) {
  let items: T[] = [];
  /** Hands over what was added so far now, instead of at the end of the pass. */
  const flush = (): void => {
    if (!items.length) return;
    const batch = items;
    items = [];
    take(batch);
  };
  return {
    add(item: T): void {
      if (items.push(item) === 1) setImmediate(flush);
    },
    flush,
  };
}
