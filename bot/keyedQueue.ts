/**
 * Runs tasks with the same key one after another inside this process (turns of one
 * conversation), so they do not race each other into optimistic-concurrency retries. Across
 * processes the version check still decides. Written here because it is a dozen lines; the
 * libraries for it bring far more than this needs.
 */
export function createKeyedQueue() {
  const tails = new Map<string, Promise<unknown>>();
  return function run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}
