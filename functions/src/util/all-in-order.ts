/**
 * `Promise.all` that waits for every promise before it judges, and rejects with the first
 * failure in argument order rather than the first in time: when two concurrent steps fail, the
 * caller reports the same one every time, and no step is still running (or left with an
 * unobserved rejection) once it returns.
 */
export async function allInOrder<T extends readonly unknown[]>(promises: {
  readonly [K in keyof T]: Promise<T[K]>;
}): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const values: unknown[] = [];
  for (const outcome of settled) {
    if (outcome.status === 'rejected') throw outcome.reason;
    values.push(outcome.value);
  }
  return values as unknown as T;
}
