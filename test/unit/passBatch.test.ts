import { setImmediate as nextPass } from 'node:timers/promises';
import { createPassBatch } from '../../db/passBatch';

test('what is added in one pass of the event loop is handed over together, once the pass is over', async () => {
  const taken: string[][] = [];
  const batch = createPassBatch<string>((items) => taken.push(items));
  batch.add('a');
  batch.add('b');
  expect(taken).toEqual([]);
  await nextPass();
  batch.add('c');
  await nextPass();
  await nextPass();
  expect(taken).toEqual([['a', 'b'], ['c']]);
});

test('flush hands over what was added so far at once, and the end of the pass then finds nothing', async () => {
  const taken: number[][] = [];
  const batch = createPassBatch<number>((items) => taken.push(items));
  batch.flush();
  batch.add(1);
  batch.flush();
  expect(taken).toEqual([[1]]);
  await nextPass();
  expect(taken).toEqual([[1]]);
});

test('tasks started together from one batch run stage by stage, each stage for all of them in turn', async () => {
  // What the turn worker relies on: every turn's first stage, then every turn's second.
  const log: string[] = [];
  const task = async (name: string) => {
    log.push(`${name}1`);
    await Promise.resolve();
    log.push(`${name}2`);
  };
  const done: Array<Promise<void>> = [];
  const batch = createPassBatch<string>((names) => names.forEach((n) => done.push(task(n))));
  batch.add('a');
  batch.add('b');
  await nextPass();
  await Promise.all(done);
  expect(log).toEqual(['a1', 'b1', 'a2', 'b2']);
});
