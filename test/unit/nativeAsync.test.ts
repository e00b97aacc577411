import vm from 'node:vm';
import { nativeAsync } from '../../scripts/nativeAsync';

/** TypeScript's helper, as packages compiled for ES2015 carry it. */
const AWAITER = `var __awaiter = function (thisArg, _arguments, P, generator) {
  function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
  return new (P || (P = Promise))(function (resolve, reject) {
    function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
    function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
    function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
    step((generator = generator.apply(thisArg, _arguments || [])).next());
  });
};`;

/** What `run()` in `code` settles to, the code run as a script with the helper defined. */
async function settle(code: string): Promise<{ ok: unknown } | { error: string }> {
  const context = vm.createContext({ Promise, setTimeout });
  vm.runInContext(`${AWAITER}\n${code}`, context);
  try {
    return { ok: await (context as { run: () => Promise<unknown> }).run() };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

// Each as TypeScript emits it for ES2015; `run` resolves to what the async code computed.
const cases: Record<string, string> = {
  'this and arguments of the method': `
    class Box { constructor() { this.n = 2; }
      add(a, b) { return __awaiter(this, arguments, void 0, function* () { const x = yield a; return this.n + x + arguments[1]; }); } }
    function run() { return new Box().add(Promise.resolve(3), 4); }`,
  'await in operand positions, thenables and plain values': `
    const thenable = { then(r) { r(5); } };
    function f() { return __awaiter(this, void 0, void 0, function* () {
      const a = (yield Promise.resolve({ v: 1 })).v;
      const b = 10 + (yield thenable);
      const c = (yield 7) * 2;
      const d = yield (a > 0 ? Promise.resolve(100) : 0);
      return [a, b, c, d]; }); }
    function run() { return f(); }`,
  'an await inside an await': `
    const id = (x) => Promise.resolve(x);
    function f() { return __awaiter(this, void 0, void 0, function* () { return yield id((yield id(20)) + 1); }); }
    function run() { return f(); }`,
  'a rejection thrown into the body and caught there': `
    function f() { return __awaiter(this, void 0, void 0, function* () {
      try { yield Promise.reject(new Error('no')); } catch (e) { return 'caught ' + e.message; } }); }
    function run() { return f(); }`,
  'an error before the first await rejects': `
    function f() { return __awaiter(this, void 0, void 0, function* () { throw new Error('at once'); }); }
    function run() { return f(); }`,
  'nested generators and callbacks keep their own yields': `
    function* counter() { yield 1; yield 2; }
    function f() { return __awaiter(this, void 0, void 0, function* () {
      const inner = [1, 2].map((x) => __awaiter(this, void 0, void 0, function* () { return (yield x) * 10; }));
      return [...counter(), ...(yield Promise.all(inner))]; }); }
    function run() { return f(); }`,
  'the order of awaits and other work': `
    const log = [];
    function f(name) { return __awaiter(this, void 0, void 0, function* () { log.push(name + 1); yield null; log.push(name + 2); yield null; log.push(name + 3); }); }
    function run() { return Promise.all([f('a'), f('b')]).then(() => log); }`,
};

test.each(Object.entries(cases))('%s: the rewritten code settles as the original does', async (_name, code) => {
  const { code: rewritten, rewritten: count } = nativeAsync(code, 'case.js');
  expect(count).toBeGreaterThan(0);
  expect(rewritten).not.toMatch(/__awaiter\(/);
  expect(await settle(rewritten)).toEqual(await settle(code));
});

test('calls it cannot rewrite faithfully are left as they are', () => {
  const kept = [
    // A Promise other than the native one.
    'function f() { return __awaiter(this, void 0, P, function* () { return yield 1; }); }',
    // `this` of a generator called with void 0 is undefined, an arrow's would not be.
    'function f() { return __awaiter(void 0, void 0, void 0, function* () { return this; }); }',
    // Delegating yield, and a generator with parameters.
    'function f() { return __awaiter(this, void 0, void 0, function* () { yield* other(); }); }',
    'function f() { return __awaiter(this, void 0, void 0, function* (x) { return yield x; }); }',
    // The generator's own arguments, empty when the call passed void 0; an arrow's would be f's.
    'function f(a) { return __awaiter(this, void 0, void 0, function* () { return arguments.length; }); }',
  ];
  for (const code of kept) expect(nativeAsync(code, 'kept.js')).toEqual({ code, rewritten: 0 });
  // With void 0 and no `this` of its own (one inside a nested function is that function's), it is rewritten.
  expect(nativeAsync('function f() { return __awaiter(void 0, void 0, void 0, function* () { return function () { return this; }; }); }', 'ok.js').rewritten).toBe(1);
});

test('a call that is a statement of its own cannot join the line before it', async () => {
  const code = `
    const log = [];
    function f() { let x = 1
      __awaiter(this, void 0, void 0, function* () { log.push(yield x); });
      return Promise.resolve().then(() => log); }
    function run() { return f(); }`;
  const { code: rewritten } = nativeAsync(code, 'statement.js');
  expect(rewritten).toContain(';(async () => {');
  expect(await settle(rewritten)).toEqual(await settle(code));
});

test('code without the helper is returned untouched', () => {
  const code = 'async function f() { return await g(); }';
  expect(nativeAsync(code, 'plain.js')).toEqual({ code, rewritten: 0 });
});
