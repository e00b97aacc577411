// for frames matching a regex, inclusive ms grouped by the chain of the nearest N dist/botbuilder callers
import fs from 'node:fs';
const [file, re, depth = 6] = process.argv.slice(2);
const p = JSON.parse(fs.readFileSync(file));
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const parent = new Map();
for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const out = new Map();
const rx = new RegExp(re);
p.samples.forEach((s, i) => {
  const d = (p.timeDeltas[i + 1] ?? 0) / 1000;
  const chain = [];
  let hit = false;
  for (let id = s; id !== undefined; id = parent.get(id)) {
    const f = byId.get(id).callFrame;
    const name = `${f.functionName || '(anon)'}@${f.url.replace(/.*\/(dist|node_modules)\//, '').replace(/\/dist\/commonjs|\/lib/, '')}:${f.lineNumber}`;
    if (!hit) { if (rx.test(name)) { hit = true; chain.push(name); } continue; }
    if (chain.length < +depth) chain.push(name);
  }
  if (hit) { const k = chain.join(' < '); out.set(k, (out.get(k) ?? 0) + d); }
});
[...out].sort((a, b) => b[1] - a[1]).slice(0, 15).forEach(([k, v]) => console.log(v.toFixed(0).padStart(6), k));
