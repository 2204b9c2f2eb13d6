// Internal: waits for a condition that an event outside the test's reach
// makes true (a message through Redis, a process's exit), checking it
// every few milliseconds, with a deadline that names what did not happen.

/** Resolves once `check` returns true; rejects after `timeoutMs` naming `what`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
