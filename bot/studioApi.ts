import type { Request, Response, Server } from 'restify';
import { z } from 'zod';
import { cleanText } from './activitySchema';
import type { Db } from '../db/client';
import {
  NothingChangedError, StaleVersionError, UnknownVersionError,
  diffVersions, effectiveFiles, latestVersion, listVersions, loadVersion, publishDraft, rollbackTo, type StoredVersion,
} from '../db/dialogsVersions';
import { changeLabel, diffFiles, editableFiles, isEditablePath, overlayFiles } from '../dialogs/dialogVersions';
import { DialogsError, parseDialogs, type DialogFiles, type DialogProblem, type Dialogs } from '../dialogs/loadDialogs';
import type { DialogsRuntimeSource } from './dialogsRuntime';
import type { Logger } from './logger';
import type { StaffIdentity, StaffRole } from './staffAuth';
import type { StudioPreview } from './studioPreview';

/**
 * The studio's API (JSON; `Authorization: Bearer <token>` from POST /api/agent/login; role
 * `staff`, supervisors too):
 *   GET  /api/studio/current                 latest version + the editable files in effect (+ problems, if it no longer passes)
 *   POST /api/studio/validate   {files}      every problem of the draft, each {file, path, reason}
 *   POST /api/studio/preview    {files, session, text?, locale}   a turn of the draft against the demo borrowers (a sandbox database)
 *   POST /api/studio/publish    {files, comment, basedOn}         201 | 400 problems | 409 someone published meanwhile
 *   GET  /api/studio/versions                history, newest first, with what each changed
 *   GET  /api/studio/versions/:id            one version's files
 *   GET  /api/studio/diff?from=&to=          per changed JSON path: old → new ("shipped" = the deployed files)
 *   POST /api/studio/rollback   {to, comment, latest}             a new version with version `to`'s content
 * A draft is a set of editable files (copy/*.json, policy/*.json, lender.json,
 * escalation/rules.json, flows/*.json) laid over the version it was made from.
 */
export interface StudioApiDeps {
  db: Db;
  authorize: (req: Request, res: Response, roles: StaffRole[]) => Promise<StaffIdentity | undefined>;
  source: DialogsRuntimeSource;
  preview: StudioPreview;
  clock: () => Date;
  logger: Logger;
  /** Mermaid text of a flow document; flows are listed without a diagram when absent. */
  flowToMermaid?: (flow: unknown) => string;
}

const ROLES: StaffRole[] = ['staff', 'supervisor'];
const HISTORY_LIMIT = 50;

const text = (what: string, max: number) =>
  z.preprocess(
    (v) => (typeof v === 'string' ? cleanText(v) : v),
    z.string({ error: `${what} must be text` }).trim().min(1, `${what} must not be empty`).max(max, `${what} must be at most ${max} characters`),
  );
const versionId = z.number({ error: 'must be a version number or null' }).int().positive();
const draftFiles = z
  .record(z.string(), z.unknown())
  .superRefine((files, ctx) => {
    // Checked here rather than by the record's key schema, whose own message zod does not report.
    for (const file of Object.keys(files)) {
      if (!isEditablePath(file)) ctx.addIssue({ code: 'custom', path: [file], message: 'not a file the studio edits (copy/*.json, policy/*.json, lender.json, escalation/rules.json, flows/*.json)' });
    }
    if (Object.keys(files).length > 64) ctx.addIssue({ code: 'custom', message: 'at most 64 files' });
  });

const validateBody = z.strictObject({ files: draftFiles, basedOn: versionId.nullable().optional() });
const previewBody = z.strictObject({
  files: draftFiles,
  basedOn: versionId.nullable().optional(),
  session: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'session is 1–64 letters, digits, "_" or "-"'),
  text: z.string({ error: 'text must be text' }).trim().min(1, 'text must not be empty').max(2000, 'text must be at most 2000 characters').optional(),
  locale: z.enum(['zh-CN', 'en']).default('zh-CN'),
});
const publishBody = z.strictObject({ files: draftFiles, comment: text('comment', 500), basedOn: versionId.nullable() });
const rollbackBody = z.strictObject({ to: versionId.nullable(), comment: text('comment', 500), latest: versionId.nullable() });
const versionRef = z.union([z.literal('shipped'), z.string().regex(/^[1-9]\d{0,9}$/, 'a version number or "shipped"')]).transform((v) => (v === 'shipped' ? null : Number(v)));
const diffQuery = z.strictObject({ from: versionRef, to: versionRef });

function sendJson(res: Response, status: number, body: unknown): void {
  res.sendRaw(status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
}

const zodProblems = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);

class BadRequest extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) throw new BadRequest(zodProblems(parsed.error));
  return parsed.data;
}

export function registerStudioApi(server: Server, deps: StudioApiDeps): void {
  const { db, source, logger } = deps;
  const shipped = source.shipped;

  const route =
    (handler: (req: Request, res: Response, staff: StaffIdentity) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        const staff = await deps.authorize(req, res, ROLES);
        if (!staff) return;
        await handler(req, res, staff);
      } catch (e) {
        if (e instanceof BadRequest) return sendJson(res, 400, { error: 'invalid_request', message: e.message, problems: e.problems });
        if (e instanceof DialogsError) return sendJson(res, 400, { error: 'invalid_dialogs', message: `the draft has ${e.problems.length} problem(s)`, problems: e.details });
        if (e instanceof StaleVersionError) return sendJson(res, 409, { error: 'conflict', message: e.message, latest: e.latest });
        if (e instanceof NothingChangedError) return sendJson(res, 400, { error: 'nothing_changed', message: e.message, problems: [] });
        if (e instanceof UnknownVersionError) return sendJson(res, 404, { error: 'not_found', message: e.message });
        logger.error({ err: e, path: req.getPath() }, 'studio API failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'something went wrong on our side' });
      }
    };

  const baseOf = async (basedOn: number | null | undefined): Promise<StoredVersion | null> => {
    if (basedOn === undefined) return latestVersion(db);
    if (basedOn === null) return null;
    const v = await loadVersion(db, basedOn);
    if (!v) throw new UnknownVersionError(basedOn);
    return v;
  };
  /** The files a draft stands for: laid over the version it was made from, over the shipped files. */
  const draftEffective = async (files: DialogFiles, basedOn: number | null | undefined) => overlayFiles(effectiveFiles(shipped, await baseOf(basedOn)), files);
  const check = (files: DialogFiles): { dialogs?: Dialogs; problems: DialogProblem[] } => {
    try {
      return { dialogs: parseDialogs(files), problems: [] };
    } catch (e) {
      if (e instanceof DialogsError) return { problems: e.details };
      throw e;
    }
  };
  const author = (staff: StaffIdentity) => `staff:${staff.username}`;

  server.get(
    '/api/studio/current',
    route(async (_req, res) => {
      const version = await latestVersion(db);
      const files = effectiveFiles(shipped, version);
      const summary = version ? (({ files: _, ...rest }) => rest)(version) : null;
      const flows = Object.entries(editableFiles(files))
        .filter(([file]) => file.startsWith('flows/'))
        .map(([file, flow]) => ({ file, diagram: deps.flowToMermaid ? safeDiagram(deps.flowToMermaid, flow) : null }));
      sendJson(res, 200, { version: summary, files: editableFiles(files), problems: check(files).problems, flows });
    }),
  );

  server.post(
    '/api/studio/validate',
    route(async (req, res) => {
      const body = parse(validateBody, req.body);
      const files = await draftEffective(body.files, body.basedOn);
      const { problems } = check(files);
      const flows = deps.flowToMermaid
        ? Object.entries(editableFiles(files)).filter(([file]) => file.startsWith('flows/')).map(([file, flow]) => ({ file, diagram: safeDiagram(deps.flowToMermaid!, flow) }))
        : [];
      sendJson(res, 200, { ok: problems.length === 0, problems, flows });
    }),
  );

  server.post(
    '/api/studio/preview',
    route(async (req, res, staff) => {
      const body = parse(previewBody, req.body);
      const dialogs = parseDialogs(await draftEffective(body.files, body.basedOn));
      const replies = await deps.preview.turn({ dialogs, username: staff.username, session: body.session, locale: body.locale, ...(body.text !== undefined ? { text: body.text } : {}) });
      sendJson(res, 200, { replies });
    }),
  );

  server.post(
    '/api/studio/publish',
    route(async (req, res, staff) => {
      const body = parse(publishBody, req.body);
      const published = await publishDraft(db, { shipped, files: body.files, comment: body.comment, author: author(staff), basedOn: body.basedOn, now: deps.clock() });
      logger.info({ version: published.version.id, author: published.version.author, changes: published.changes.length }, 'dialogs published');
      sendJson(res, 201, { version: published.version, changed: published.changes.map(changeLabel) });
    }),
  );

  server.post(
    '/api/studio/rollback',
    route(async (req, res, staff) => {
      const body = parse(rollbackBody, req.body);
      const published = await rollbackTo(db, { shipped, to: body.to, comment: body.comment, author: author(staff), latest: body.latest, now: deps.clock() });
      logger.info({ version: published.version.id, restored: body.to, author: published.version.author }, 'dialogs rolled back');
      sendJson(res, 201, { version: published.version, changed: published.changes.map(changeLabel) });
    }),
  );

  server.get(
    '/api/studio/versions',
    route(async (_req, res) => {
      const versions = await listVersions(db, HISTORY_LIMIT);
      // What each changed, against the one before it (the oldest listed: against its predecessor or the shipped files).
      const contents = new Map<number, DialogFiles>();
      const effective = async (id: number | null) => {
        if (id === null) return shipped;
        if (!contents.has(id)) {
          const v = await loadVersion(db, id);
          contents.set(id, v ? effectiveFiles(shipped, v) : shipped);
        }
        return contents.get(id)!;
      };
      const list = [];
      for (const [i, v] of versions.entries()) {
        // Newest first: the one before is the next listed; only the oldest listed needs a look-up.
        const previous = versions[i + 1]?.id ?? (await db.dialogsVersion.findFirst({ where: { id: { lt: v.id } }, orderBy: { id: 'desc' }, select: { id: true } }))?.id ?? null;
        const changes = diffFiles(await effective(previous), await effective(v.id));
        list.push({ ...v, previous, changed: changes.map(changeLabel) });
      }
      sendJson(res, 200, { versions: list });
    }),
  );

  server.get(
    '/api/studio/versions/:id',
    route(async (req, res) => {
      const id = parse(z.strictObject({ id: versionRef }), req.params);
      if (id.id === null) return sendJson(res, 200, { version: null, files: editableFiles(shipped) });
      const v = await loadVersion(db, id.id);
      if (!v) throw new UnknownVersionError(id.id);
      const { files, ...summary } = v;
      sendJson(res, 200, { version: summary, files: editableFiles(effectiveFiles(shipped, { files })) });
    }),
  );

  server.get(
    '/api/studio/diff',
    route(async (req, res) => {
      const query = parse(diffQuery, Object.fromEntries(new URL(req.url ?? '/', 'http://local').searchParams));
      const changes = await diffVersions(db, shipped, query.from, query.to);
      sendJson(res, 200, { from: query.from, to: query.to, changes: changes.map((c) => ({ ...c, before: c.before ?? null, after: c.after ?? null })) });
    }),
  );
}

/** A flow the diagram maker cannot draw is still listed (its problems come from the checks). */
function safeDiagram(toMermaid: (flow: unknown) => string, flow: unknown): string | null {
  try {
    return toMermaid(flow);
  } catch {
    return null;
  }
}
