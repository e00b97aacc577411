import type { DialogFiles } from './loadDialogs';

/**
 * Pure rules of published dialog versions: which files staff may change in the studio, how a
 * published version combines with the files the deployment ships, and what changed between two
 * sets of files. No I/O: db/dialogsVersions.ts stores versions, bot/dialogsRuntime.ts applies them.
 */

/**
 * What the studio edits: copy, policy, the lender's details, escalation rules and flows. NLU
 * phrases and keywords stay with the deployment (they retrain the classifier and are checked by
 * `npm run nlu:eval`, which a studio publish cannot run).
 */
const EDITABLE = /^(copy\/[A-Za-z-]+\.json|policy\/[A-Za-z0-9_-]+\.json|lender\.json|escalation\/rules\.json|flows\/[A-Za-z0-9_-]+\.json)$/;

export const isEditablePath = (file: string): boolean => EDITABLE.test(file);

/** The editable subset of a file set. */
export function editableFiles(files: DialogFiles): DialogFiles {
  return Object.fromEntries(Object.entries(files).filter(([file]) => isEditablePath(file)));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The files the bot runs on: the shipped files with a published version's files laid over them.
 * Copy files merge per key, so a message a new deployment adds is there even before staff publish
 * again, while every message staff changed keeps their wording. Other files are replaced whole: a
 * policy is one decision, not a mix of two.
 */
export function overlayFiles(shipped: DialogFiles, published: DialogFiles | undefined): DialogFiles {
  if (!published) return shipped;
  const out: DialogFiles = { ...shipped };
  for (const [file, content] of Object.entries(published)) {
    if (!isEditablePath(file)) continue;
    const base = shipped[file];
    out[file] = file.startsWith('copy/') && isPlainObject(base) && isPlainObject(content) ? { ...base, ...content } : content;
  }
  return out;
}

/** One changed value: a file, the JSON path inside it ("" for the whole file) and both values (undefined: absent). */
export interface DialogChange {
  file: string;
  path: string;
  before: unknown;
  after: unknown;
}

const keyPath = (base: string, key: string | number) => (base ? `${base}.${key}` : String(key));

function diffValues(file: string, path: string, before: unknown, after: unknown, out: DialogChange[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const k of keys) diffValues(file, keyPath(path, k), before[k], after[k], out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((b, i) => diffValues(file, keyPath(path, i), b, after[i], out));
    return;
  }
  // A list that grew or shrank is one change: element-wise it would read as many unrelated edits.
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ file, path, before, after });
}

/** Every changed value between two file sets, by file then path; only editable files count. */
export function diffFiles(before: DialogFiles, after: DialogFiles): DialogChange[] {
  const out: DialogChange[] = [];
  const files = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(isEditablePath).sort();
  for (const file of files) diffValues(file, '', before[file], after[file], out);
  return out;
}

/** "copy/zh-CN.json: menu.prompt", as the audit trail lists changes. */
export const changeLabel = (c: Pick<DialogChange, 'file' | 'path'>): string => (c.path ? `${c.file}: ${c.path}` : c.file);
