/**
 * Polls `predicate` until it returns a truthy value (returned) or `timeoutMs` passes; then throws,
 * naming `what`, so a test that waits for something asynchronous fails with what it was waiting
 * for instead of asserting too early or hanging until Jest's own timeout. `what` may be a function,
 * called at the timeout, to describe the state reached (e.g. a child process's output so far).
 */
export async function waitFor<T>(
  predicate: () => Promise<T> | T,
  timeoutMs: number,
  what: string | (() => string),
  intervalMs = 50,
): Promise<NonNullable<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<Awaited<T>>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
