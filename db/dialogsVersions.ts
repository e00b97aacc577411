import { providerOf, type Db } from './client';
import type { Sql } from './sql';

/** The advisory lock publishers and rollbacks take on PostgreSQL (any constant unique to this use). */
const PG_PUBLISH_LOCK_KEY = 727_001;
import { changeLabel, diffFiles, editableFiles, isEditablePath, overlayFiles, type DialogChange } from '../dialogs/dialogVersions';
import { parseDialogs, type DialogFiles, type Dialogs } from '../dialogs/loadDialogs';

/**
 * Published versions of the studio-editable dialog files (model DialogsVersion). Each row holds
 * every editable file as it was published, so a version means the same thing whatever came
 * before it, and a rollback is just a new row with an older row's content. Publish and rollback
 * are refused when the result does not pass every dialogs/ check, or when someone else published
 * since the editor loaded (optimistic concurrency on the latest id); each writes its row and an
 * AuditLog row in one transaction.
 */

export type VersionAction = 'publish' | 'rollback';

export interface VersionSummary {
  id: number;
  action: VersionAction;
  comment: string;
  author: string;
  /** publish: the version the edit started from (null: the shipped files); rollback: the version restored. */
  basedOn: number | null;
  createdAt: string;
}

export interface StoredVersion extends VersionSummary {
  /** The editable files as published, keyed by path under dialogs/. */
  files: DialogFiles;
}

/** Someone published after the editor loaded its version: the edit would silently undo theirs. */
export class StaleVersionError extends Error {
  constructor(
    readonly latest: number | null,
    readonly basedOn: number | null,
  ) {
    super(
      latest === null
        ? `version ${basedOn} is not the latest: nothing has been published (reload the studio)`
        : `someone published version ${latest} meanwhile (you edited ${basedOn === null ? 'the shipped files' : `version ${basedOn}`}); reload and apply your change again`,
    );
  }
}

export class NothingChangedError extends Error {
  constructor() {
    super('nothing changed: the draft is the same as the published version');
  }
}

export class UnknownVersionError extends Error {
  constructor(readonly id: number) {
    super(`version ${id} does not exist`);
  }
}

/** At most this many changed paths are written into one audit row; the count is always complete. */
const AUDIT_CHANGES_LIMIT = 500;

type Row = { id: number; content: string; comment: string; author: string; action: string; basedOn: number | null; createdAt: Date };

const summaryOf = (r: Omit<Row, 'content'>): VersionSummary => ({
  id: r.id,
  action: r.action === 'rollback' ? 'rollback' : 'publish',
  comment: r.comment,
  author: r.author,
  basedOn: r.basedOn,
  createdAt: r.createdAt.toISOString(),
});

const storedVersionOf = (row: Row): StoredVersion => ({ ...summaryOf(row), files: JSON.parse(row.content) as DialogFiles });

const SUMMARY_FIELDS = { id: true, comment: true, author: true, action: true, basedOn: true, createdAt: true } as const;

/**
 * The newest version's id (null: nothing published). One indexed lookup: cheap enough to poll.
 * Plain SQL (db/sql.ts), as turns run: the turn worker's start and turns need no Prisma client.
 */
export async function latestVersionId(sql: Sql): Promise<number | null> {
  const [row] = await sql.all<{ id: number }>('SELECT "id" FROM "DialogsVersion" ORDER BY "id" DESC LIMIT 1');
  return row ? Number(row.id) : null;
}

export async function loadVersion(db: Db, id: number): Promise<StoredVersion | null> {
  const row = await db.dialogsVersion.findUnique({ where: { id } });
  return row ? storedVersionOf(row) : null;
}

export async function latestVersion(db: Db): Promise<StoredVersion | null> {
  const row = await db.dialogsVersion.findFirst({ orderBy: { id: 'desc' } });
  return row ? storedVersionOf(row) : null;
}

/** Newest first. */
export async function listVersions(db: Db, limit = 50): Promise<VersionSummary[]> {
  const rows = await db.dialogsVersion.findMany({ orderBy: { id: 'desc' }, take: limit, select: SUMMARY_FIELDS });
  return rows.map(summaryOf);
}

/** The files the bot runs on for a version (null: the shipped files alone). */
export function effectiveFiles(shipped: DialogFiles, version: Pick<StoredVersion, 'files'> | null): DialogFiles {
  return overlayFiles(shipped, version?.files);
}

/** The dialogs in force for a command outside the server: the shipped files under the latest version. */
export async function currentDialogs(db: Db, shipped: DialogFiles): Promise<Dialogs> {
  return parseDialogs(effectiveFiles(shipped, await latestVersion(db)));
}

/** What changed from one version to another (null on either side: the shipped files). */
export async function diffVersions(db: Db, shipped: DialogFiles, from: number | null, to: number | null): Promise<DialogChange[]> {
  const side = async (id: number | null) => {
    if (id === null) return shipped;
    const v = await loadVersion(db, id);
    if (!v) throw new UnknownVersionError(id);
    return effectiveFiles(shipped, v);
  };
  return diffFiles(await side(from), await side(to));
}

export interface PublishInput {
  /** The files the deployment ships (dialogs/ on disk). */
  shipped: DialogFiles;
  /** The draft: editable files only; files left out keep their published content. */
  files: DialogFiles;
  comment: string;
  /** `staff:<username>` */
  author: string;
  /** The version the draft was made from (null: the shipped files). */
  basedOn: number | null;
  now: Date;
}

export interface Published {
  version: VersionSummary;
  changes: DialogChange[];
}

async function writeVersion(
  db: Db,
  input: { shipped: DialogFiles; content: DialogFiles; comment: string; author: string; action: VersionAction; basedOn: number | null; expectedLatest: number | null; now: Date },
): Promise<Published> {
  return db.$transaction(async (tx) => {
    // Publishers take turns: the second one then reads the first one's version and is told
    // someone published meanwhile (SQLite: every transaction already holds the write lock).
    if (providerOf(tx) === 'postgresql') await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${PG_PUBLISH_LOCK_KEY})`);
    const latestRow = await tx.dialogsVersion.findFirst({ orderBy: { id: 'desc' } });
    const latest = latestRow?.id ?? null;
    if (latest !== input.expectedLatest) throw new StaleVersionError(latest, input.expectedLatest);
    const before = effectiveFiles(input.shipped, latestRow ? { files: JSON.parse(latestRow.content) as DialogFiles } : null);
    const changes = diffFiles(before, effectiveFiles(input.shipped, { files: input.content }));
    if (changes.length === 0) throw new NothingChangedError();
    const row = await tx.dialogsVersion.create({
      data: { content: JSON.stringify(input.content), comment: input.comment, author: input.author, action: input.action, basedOn: input.basedOn, createdAt: input.now },
    });
    await tx.auditLog.create({
      data: {
        at: input.now,
        actor: input.author,
        action: `dialogs.${input.action}`,
        details: JSON.stringify({
          version: row.id,
          previous: latest,
          basedOn: input.basedOn,
          comment: input.comment,
          changeCount: changes.length,
          changed: changes.slice(0, AUDIT_CHANGES_LIMIT).map(changeLabel),
        }),
      },
    });
    return { version: summaryOf(row), changes };
  });
}

/**
 * Publishes a draft. Refused with a DialogsError (every problem) when the result does not pass
 * the dialogs/ checks, StaleVersionError when basedOn is not the latest version, NothingChangedError
 * when it changes nothing. The stored content is every editable file, draft laid over the version
 * it was based on.
 */
export async function publishDraft(db: Db, input: PublishInput): Promise<Published> {
  const outside = Object.keys(input.files).filter((f) => !isEditablePath(f));
  if (outside.length) throw new Error(`not editable in the studio: ${outside.join(', ')}`);
  const base = input.basedOn === null ? null : await loadVersion(db, input.basedOn);
  if (input.basedOn !== null && !base) throw new UnknownVersionError(input.basedOn);
  const content = editableFiles(overlayFiles(effectiveFiles(input.shipped, base), input.files));
  parseDialogs(effectiveFiles(input.shipped, { files: content }));
  return writeVersion(db, { ...input, content, action: 'publish', expectedLatest: input.basedOn });
}

export interface RollbackInput {
  shipped: DialogFiles;
  /** The version whose content comes back (null: the shipped files, undoing every publish). */
  to: number | null;
  comment: string;
  author: string;
  /** The latest version as the caller saw it: a rollback over someone's newer publish is refused too. */
  latest: number | null;
  now: Date;
}

/** A new version with an older version's content (checked against today's shipped files first). */
export async function rollbackTo(db: Db, input: RollbackInput): Promise<Published> {
  const target = input.to === null ? { files: editableFiles(input.shipped) } : await loadVersion(db, input.to);
  if (!target) throw new UnknownVersionError(input.to as number);
  parseDialogs(effectiveFiles(input.shipped, target));
  return writeVersion(db, { shipped: input.shipped, content: target.files, comment: input.comment, author: input.author, action: 'rollback', basedOn: input.to, expectedLatest: input.latest, now: input.now });
}
