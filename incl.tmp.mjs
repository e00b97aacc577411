// inclusive ms per function (dist code + named filter), from a .cpuprofile
import fs from 'node:fs';
const [file, filter = '/dist/', n = 40] = process.argv.slice(2);
const p = JSON.parse(fs.readFileSync(file));
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const parent = new Map();
for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
const dt = new Map();
p.samples.forEach((s, i) => dt.set(i, (p.timeDeltas[i + 1] ?? 0) / 1000));
const incl = new Map();
p.samples.forEach((s, i) => {
  const seen = new Set();
  for (let id = s; id !== undefined; id = parent.get(id)) {
    const f = byId.get(id).callFrame;
    if (!f.url.includes(filter)) continue;
    const k = `${f.functionName || '(anon)'} ${f.url.replace(/.*\/(dist|node_modules)\//, '')}:${f.lineNumber}`;
    if (seen.has(k)) continue; seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + dt.get(i));
  }
});
[...incl].sort((a, b) => b[1] - a[1]).slice(0, +n).forEach(([k, v]) => console.log(v.toFixed(0).padStart(6), k));
