/** Work bounded to n at once: variant copies coming up beside each other, report ladders each running tshark. */

/** At most n holders at once: await the returned function for a slot, call what it resolves to when done. */
export function slots(n: number): () => Promise<() => void> {
  let free = n;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return () =>
    new Promise((resolve) => {
      if (free > 0) {
        free--;
        resolve(release);
      } else waiting.push(() => resolve(release));
    });
}

/** `work` on every item, at most n at once; the results in the items' order. */
export function mapAtMost<T, R>(items: readonly T[], n: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const room = slots(n);
  return Promise.all(
    items.map(async (item) => {
      const release = await room();
      try {
        return await work(item);
      } finally {
        release();
      }
    }),
  );
}
