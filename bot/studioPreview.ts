import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../db/client';
import { createConversationStore } from '../db/conversationStore';
import { migrateDatabase } from '../db/migrator';
import type { Dialogs } from '../dialogs/loadDialogs';
import { localDateOf } from '../machines/domain/calendar';
import { seedDemoPortfolio } from '../portfolio/demoPortfolio';
import { createFileStore, type FileStore } from '../proofs/fileStore';
import { inboundActivitySchema } from './activitySchema';
import type { Clock } from './clock';
import type { DialogsRuntime } from './dialogsRuntime';
import type { Logger } from './logger';
import { createTurnPipeline, type TurnPipeline } from './turnPipeline';

/**
 * The studio's embedded chat: a draft's dialogs tried against the demo borrowers without
 * touching a real conversation. Everything lives in a SQLite database of its own in a temporary
 * folder (migrated and seeded with the demo portfolio on first use, deleted on close), with its
 * own identity key and proof folder; turns run through the same pipeline and machine as the bot.
 */
export interface PreviewReply {
  text: string;
  /** Suggested actions: the borrower may click or type them. */
  actions: Array<{ title: string; value: string }>;
}

export interface PreviewTurn {
  /** The draft's dialogs, already checked. */
  dialogs: Dialogs;
  /** Staff member: each one's preview conversations are their own. */
  username: string;
  /** Chosen by the page; a new one starts a new conversation. */
  session: string;
  /** Absent: the borrower opened the chat (greeting). */
  text?: string;
  locale: 'zh-CN' | 'en';
}

export interface StudioPreview {
  turn(input: PreviewTurn): Promise<PreviewReply[]>;
  close(): Promise<void>;
}

export interface StudioPreviewDeps {
  /** Runtime builder for the preview database (its machine's actors read and write that database). */
  builderFor(database: Database, identityKey: string, files: FileStore): (dialogs: Dialogs, versionId: number | null) => DialogsRuntime;
  clock: Clock;
  timeZone: string;
  logger: Logger;
}

interface Sandbox {
  dir: string;
  database: Database;
  build: (dialogs: Dialogs, versionId: number | null) => DialogsRuntime;
  pipelines: Map<string, TurnPipeline>;
}

/** Drafts kept warm at once (several staff, or undo and redo). */
const PIPELINES_KEPT = 4;

export function createStudioPreview(deps: StudioPreviewDeps): StudioPreview {
  let sandbox: Promise<Sandbox> | undefined;
  let closed = false;

  async function open(): Promise<Sandbox> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'studio-preview-'));
    try {
      const url = `file:${path.join(dir, 'preview.db')}`;
      await migrateDatabase(url);
      const database = await openDatabase(url);
      // A key of its own: nothing derived from the production key is written to a temp folder.
      const identityKey = randomBytes(32).toString('hex');
      await seedDemoPortfolio(database, { today: localDateOf(deps.clock(), deps.timeZone), identitySecret: identityKey });
      const files = createFileStore(path.join(dir, 'proofs'));
      deps.logger.info({ dir }, 'studio preview database ready');
      return { dir, database, build: deps.builderFor(database, identityKey, files), pipelines: new Map() };
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** One pipeline per draft, so a turn never runs on another draft's dialogs. */
  function pipelineFor(box: Sandbox, dialogs: Dialogs): TurnPipeline {
    const key = createHash('sha256').update(JSON.stringify(dialogs)).digest('hex');
    let pipeline = box.pipelines.get(key);
    if (!pipeline) {
      const runtime = box.build(dialogs, null);
      pipeline = createTurnPipeline({
        store: createConversationStore(box.database.sql),
        runtime: async () => runtime,
        clock: deps.clock,
        logger: deps.logger,
        timeZone: deps.timeZone,
      });
      if (box.pipelines.size >= PIPELINES_KEPT) box.pipelines.delete(box.pipelines.keys().next().value as string);
      box.pipelines.set(key, pipeline);
    }
    return pipeline;
  }

  return {
    async turn(input) {
      if (closed) throw new Error('the studio preview is closed');
      sandbox ??= open().catch((e) => {
        sandbox = undefined; // the next preview tries again
        throw e;
      });
      const box = await sandbox;
      const user = { id: `studio-${input.username}`, name: input.username };
      const activity = inboundActivitySchema.parse({
        ...(input.text === undefined
          ? { type: 'conversationUpdate', membersAdded: [user] }
          : { type: 'message', text: input.text }),
        id: randomUUID(),
        channelId: 'studio-preview',
        // Never called: preview replies come back in the answer, and nothing is sent proactively.
        serviceUrl: 'http://127.0.0.1/',
        from: user,
        recipient: { id: 'bot', name: 'bot' },
        conversation: { id: `${input.username}:${input.session}` },
        locale: input.locale,
        timestamp: deps.clock().toISOString(),
      });
      const replies = await pipelineFor(box, input.dialogs).handle(activity);
      return replies.flatMap((r) =>
        r.type === 'message' ? [{ text: r.text, actions: (r.suggestedActions?.actions ?? []).map(({ title, value }) => ({ title, value })) }] : [],
      );
    },

    async close() {
      closed = true;
      const pending = sandbox;
      sandbox = undefined;
      if (!pending) return;
      const box = await pending.catch(() => undefined);
      if (!box) return;
      await box.database.close();
      fs.rmSync(box.dir, { recursive: true, force: true });
    },
  };
}
