import { mergeObjects } from '../../machines/mergeObjects';

test('mergeObjects is { ...base, ...extra }: a new object, extra winning, base untouched', () => {
  const base = { a: 1, b: { c: 2 }, keep: 'x' };
  const result = mergeObjects(base, { a: 'one', d: [4] });
  expect(result).toEqual({ a: 'one', b: { c: 2 }, keep: 'x', d: [4] });
  expect(result).not.toBe(base);
  expect(base).toEqual({ a: 1, b: { c: 2 }, keep: 'x' });
  // The same shallow copy as a spread: nested values are shared, keys keep the spread's order.
  expect(result.b).toBe(base.b);
  expect(Object.keys(result)).toEqual(Object.keys({ ...base, ...{ a: 'one', d: [4] } }));
});

test('mergeObjects copies own enumerable properties only, as a spread does', () => {
  const proto = { inherited: true };
  const base = Object.create(proto, { own: { value: 1, enumerable: true }, hidden: { value: 2, enumerable: false } }) as { own: number };
  expect(mergeObjects(base, { more: 3 })).toEqual({ own: 1, more: 3 });
});
