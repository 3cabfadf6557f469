import { setTimeout as sleep } from 'node:timers/promises';
import { allInOrder } from '../../functions/src/util/all-in-order';

const later = async <T>(ms: number, value: T): Promise<T> => {
  await sleep(ms);
  return value;
};
const failLater = async (ms: number, message: string): Promise<never> => {
  await sleep(ms);
  throw new Error(message);
};

it('answers every value in argument order, whatever order they settle in', async () => {
  await expect(allInOrder([later(30, 'a'), later(1, 2), later(10, true)])).resolves.toEqual([
    'a',
    2,
    true,
  ]);
});

it('rejects with the first failure in argument order, not the first in time', async () => {
  await expect(
    allInOrder([failLater(40, 'first argument'), failLater(1, 'second argument')]),
  ).rejects.toThrow('first argument');
});

it('rejects only once every step has ended, so none is still running when the caller reports', async () => {
  let slowFinished = false;
  const slow = (async () => {
    await sleep(40);
    slowFinished = true;
    return 'done';
  })();
  await expect(allInOrder([failLater(1, 'fast failure'), slow])).rejects.toThrow('fast failure');
  expect(slowFinished).toBe(true);
});
