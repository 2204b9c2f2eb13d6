/**
 * A stream whose items are `map`ped as the consumer takes them, those it
 * maps to undefined left out (an inbox update of a conversation the viewer
 * has left since). Returning or throwing ends the source too, so it lets go
 * of its topic.
 */
export function mapLive<From, To>(source: AsyncIterableIterator<From>, map: (item: From) => Promise<To | undefined>): AsyncIterableIterator<To> {
  return {
    async next() {
      for (;;) {
        const result = await source.next();
        if (result.done) return { value: undefined, done: true };
        const mapped = await map(result.value);
        if (mapped !== undefined) return { value: mapped, done: false };
      }
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await source.return?.();
      throw error instanceof Error ? error : new Error(String(error));
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
