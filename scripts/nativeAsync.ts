import ts from 'typescript';

/**
 * Rewrites TypeScript's downlevelled async functions in a package's JavaScript as native ones, for
 * the bundle (scripts/bundle.mjs). Packages compiled for ES2015/ES2016 (botbuilder and
 * botframework-connector among them) turn every `async` method into
 * `__awaiter(this, void 0, void 0, function* () { … yield x … })`, so each call makes a new
 * generator function. On Node 20 (V8 11.3) its first call gives that function a map of its own (in
 * the old generation) and a prototype object, so every call of such a method leaves old objects
 * pointing at young ones: the main thread promoted 9.4% of what it allocated to the old
 * generation and paused about 4 ms for each scavenge, 3.5% and 2.4 ms with this step
 * (bench/FINDINGS.md). A loop calling a generator made anew each time promotes 5.5% of what it
 * allocates; the same loop with one generator function, none. Written here because no tool turns
 * compiled generators back into async functions.
 *
 * A call is rewritten as `(async () => { … await x … })()` only where that means the same thing:
 * the generator takes no parameters, the Promise is the native one (`void 0`), `this` is the
 * caller's (`this`, or `void 0` with no `this` in the body), the arguments are the caller's
 * (`arguments`, or `void 0` with no `arguments` in the body), and every `yield` of its own has an
 * operand and no `*`. Anything else is left as it is. An arrow function keeps the enclosing `this`
 * and `arguments`, as `__awaiter` passed them; `await` resolves values and thenables as
 * `__awaiter`'s `adopt` did.
 */
export function nativeAsync(code: string, fileName: string): { code: string; rewritten: number } {
  if (!code.includes('__awaiter')) return { code, rewritten: 0 };
  const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const edits: Array<[from: number, to: number, text: string]> = [];
  let rewritten = 0;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const generator = awaiterGenerator(node);
      const yields = generator && ownYields(generator, node.arguments[0]?.kind === ts.SyntaxKind.ThisKeyword, !isVoid0(node.arguments[1]));
      if (generator && yields) {
        rewritten++;
        // A statement that starts with `(` would continue a previous line that has no semicolon.
        const opening = ts.isExpressionStatement(node.parent) ? ';(async () => {' : '(async () => {';
        edits.push([node.getStart(source), generator.body.getStart(source) + 1, opening], [generator.body.end - 1, node.end, '})()']);
        for (const y of yields) {
          const operand = y.expression as ts.Expression;
          // `await` binds tighter than `yield`: an operand that is not unary-level keeps its own parentheses.
          if (unaryLevel(operand)) edits.push([y.getStart(source), y.getStart(source) + 'yield'.length, 'await']);
          else edits.push([y.getStart(source), operand.getStart(source), 'await ('], [operand.end, operand.end, ')']);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  // From the end, so that each edit's positions still hold; edits never overlap.
  edits.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  let out = code;
  for (const [from, to, text] of edits) out = out.slice(0, from) + text + out.slice(to);
  return { code: out, rewritten };
}

const isVoid0 = (e: ts.Expression | undefined): boolean =>
  !!e && ts.isVoidExpression(e) && ts.isNumericLiteral(e.expression) && e.expression.text === '0';

/** The generator of a `__awaiter(thisArg, args, P, function* () { … })` call that can become an async arrow. */
function awaiterGenerator(call: ts.CallExpression): ts.FunctionExpression | undefined {
  if (!ts.isIdentifier(call.expression) || !/^__awaiter[\w$]*$/.test(call.expression.text) || call.arguments.length !== 4) return undefined;
  const [thisArg, args, promise, generator] = call.arguments;
  if (!generator || !ts.isFunctionExpression(generator) || !generator.asteriskToken || generator.parameters.length) return undefined;
  if (!isVoid0(promise)) return undefined;
  if (!(thisArg?.kind === ts.SyntaxKind.ThisKeyword || isVoid0(thisArg))) return undefined;
  if (!(isVoid0(args) || (args && ts.isIdentifier(args) && args.text === 'arguments'))) return undefined;
  return generator;
}

/** The function a node's `yield` or `this` belongs to: arrows pass `this` through, so they count only for `yield`. */
function enclosingFunction(node: ts.Node, throughArrows: boolean): ts.Node | undefined {
  let n = node.parent;
  while (n && !(ts.isFunctionLike(n) && !(throughArrows && ts.isArrowFunction(n)))) n = n.parent;
  return n;
}

/** The generator's own `yield`s, or undefined when one of them (or a `this` or `arguments` it would see) cannot be rewritten. */
function ownYields(generator: ts.FunctionExpression, callersThis: boolean, callersArguments: boolean): ts.YieldExpression[] | undefined {
  const found: ts.YieldExpression[] = [];
  let rewritable = true;
  const walk = (n: ts.Node): void => {
    if (ts.isYieldExpression(n) && enclosingFunction(n, false) === generator) {
      if (n.asteriskToken || !n.expression) rewritable = false;
      else found.push(n);
    }
    // With `void 0` as thisArg the generator's `this` is undefined; an arrow's would be the caller's.
    if (n.kind === ts.SyntaxKind.ThisKeyword && !callersThis && enclosingFunction(n, true) === generator) rewritable = false;
    // Likewise its `arguments` are the empty list when the call passed void 0.
    if (ts.isIdentifier(n) && n.text === 'arguments' && !callersArguments && enclosingFunction(n, true) === generator) rewritable = false;
    ts.forEachChild(n, walk);
  };
  ts.forEachChild(generator.body, walk);
  return rewritable ? found : undefined;
}

function unaryLevel(e: ts.Expression): boolean {
  return !(ts.isBinaryExpression(e) || ts.isConditionalExpression(e) || ts.isArrowFunction(e) || ts.isYieldExpression(e) || ts.isCommaListExpression(e));
}
