// self time of frames matching re, grouped by the first caller frame NOT matching re
import fs from 'node:fs';
const [file, re] = process.argv.slice(2);
const p = JSON.parse(fs.readFileSync(file));
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const parent = new Map();
for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const rx = new RegExp(re); const out = new Map(); let total = 0;
const nm = (f) => `${f.functionName || '(anon)'}@${f.url.replace(/.*\/(dist|node_modules)\//, '')}:${f.lineNumber}`;
p.samples.forEach((s, i) => {
  const d = (p.timeDeltas[i + 1] ?? 0) / 1000;
  let id = s; if (!rx.test(byId.get(id).callFrame.url)) return;
  while (id !== undefined && rx.test(byId.get(id).callFrame.url)) id = parent.get(id);
  const k = id === undefined ? '(root)' : nm(byId.get(id).callFrame);
  out.set(k, (out.get(k) ?? 0) + d); total += d;
});
console.log('total', total.toFixed(0));
[...out].sort((a, b) => b[1] - a[1]).slice(0, 15).forEach(([k, v]) => console.log(v.toFixed(0).padStart(6), k));
