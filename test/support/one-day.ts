/**
 * For a test file whose assertions name "today" while the code under test reads its own clock
 * (the API's and the CLI's dates of notices and objections): the file must run within one UTC
 * day. Started closer than `budgetMs` to midnight, this waits until just past it, so the day
 * the test computes is the day the code sees; at any other time it returns at once.
 */
export async function withinOneUtcDay(budgetMs: number): Promise<void> {
  const DAY = 86_400_000;
  const untilMidnight = DAY - (Date.now() % DAY);
  if (untilMidnight >= budgetMs) return;
  await new Promise((resolve) => setTimeout(resolve, untilMidnight + 1_000));
}
