import type { Db } from '../db/client';
import type { HubConversationEvent } from '../machines/conversationTypes';
import { LOCALES, type Locale } from '../dialogs/schemas';
import type { Logger } from './logger';
import type { ProactiveSender } from './proactiveSender';
import type { StaffIdentity } from './staffAuth';

/**
 * The built-in agent hub: the queue of Handoff rows the conversation side creates, what agents do
 * with them (claim, write, resolve), each action audited in the same transaction as its change,
 * and a live feed of events for the console.
 */
export type HubEvent =
  | { type: 'handoff.queued' | 'handoff.claimed' | 'handoff.resolved'; handoffId: string }
  | { type: 'message'; handoffId: string; conversationId: string; direction: 'in' | 'agent' | 'out'; text: string; at: string };

export interface ConversationEvents {
  /** Runs a machine turn for a conversation with an event from the hub and sends the bot's replies proactively. */
  deliver(conversationId: string, event: HubConversationEvent): Promise<void>;
}

export type HandoffStatus = 'queued' | 'active' | 'resolved';

export interface HandoffView {
  id: string;
  conversationId: string;
  status: HandoffStatus;
  rule: string;
  priority: number;
  createdAt: string;
  /** Queued: so far; otherwise until an agent claimed it (or it was closed unclaimed). */
  waitingSeconds: number;
  claimedBy: string | null;
  claimedAt: string | null;
  resolvedAt: string | null;
  resolutionNote: string | null;
  /** Only when the borrower verified their identity in the conversation. */
  borrower: { id: string; name: string } | null;
  summary: unknown;
}

export interface TranscriptEntry {
  id: number;
  direction: string;
  text: string;
  at: string;
  from: { id?: string; name?: string } | null;
  attachments: Array<{ contentType: string; name?: string }>;
}

export interface AgentLoad {
  agents: Array<{ username: string; role: string; active: number; resolvedToday: number }>;
  queue: { queued: number; longestWaitSeconds: number };
}

/** A refusal the API passes on as its status code. */
export class HubError extends Error {
  constructor(
    readonly status: 403 | 404 | 409 | 502,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type HandoffRow = NonNullable<Awaited<ReturnType<Db['handoff']['findUnique']>>>;

const RESOLVED_LIST_LIMIT = 100;
const TRANSCRIPT_LIMIT = 500;

/** Supervisors see everything; an agent sees the queue and what they claimed themselves. */
function canSee(row: Pick<HandoffRow, 'status' | 'claimedBy'>, viewer: StaffIdentity): boolean {
  return viewer.role === 'supervisor' || row.status === 'queued' || row.claimedBy === viewer.username;
}

const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function createHandoffHub(deps: { db: Db; clock: () => Date; logger: Logger; proactive: ProactiveSender; conversationEvents: ConversationEvents }) {
  const { db, clock, logger, proactive, conversationEvents } = deps;
  const subscribers = new Map<(e: HubEvent) => void, (() => void) | undefined>();

  const actor = (viewer: StaffIdentity) => `agent:${viewer.username}`;

  async function views(rows: HandoffRow[]): Promise<HandoffView[]> {
    const borrowerIds = [...new Set(rows.flatMap((r) => (r.borrowerId ? [r.borrowerId] : [])))];
    const borrowers = borrowerIds.length ? await db.borrower.findMany({ where: { id: { in: borrowerIds } }, select: { id: true, name: true } }) : [];
    const names = new Map(borrowers.map((b) => [b.id, b.name]));
    const now = clock();
    return rows.map((r) => ({
      id: r.id,
      conversationId: r.conversationId,
      status: r.status as HandoffStatus,
      rule: r.rule,
      priority: r.priority,
      createdAt: r.createdAt.toISOString(),
      waitingSeconds: seconds(r.createdAt, r.claimedAt ?? r.resolvedAt ?? now),
      claimedBy: r.claimedBy,
      claimedAt: r.claimedAt?.toISOString() ?? null,
      resolvedAt: r.resolvedAt?.toISOString() ?? null,
      resolutionNote: r.resolutionNote,
      borrower: r.borrowerId && names.has(r.borrowerId) ? { id: r.borrowerId, name: names.get(r.borrowerId)! } : null,
      summary: parseJson(r.summary),
    }));
  }

  /** The row if the viewer may see it: unknown → 404, someone else's → 403. */
  async function visibleRow(id: string, viewer: StaffIdentity): Promise<HandoffRow> {
    const row = await db.handoff.findUnique({ where: { id } });
    if (!row) throw new HubError(404, 'not_found', `no handoff ${id}`);
    if (!canSee(row, viewer)) throw new HubError(403, 'not_yours', `handoff ${id} is held by another agent`);
    return row;
  }

  function publish(event: HubEvent): void {
    for (const listener of subscribers.keys()) {
      try {
        listener(event);
      } catch (err) {
        logger.warn({ err, event: event.type }, 'hub listener failed');
      }
    }
  }

  /** Tells the conversation side; the agent's action already stands, so a failure is logged, not thrown. */
  async function notifyConversation(conversationId: string, event: Parameters<ConversationEvents['deliver']>[1]): Promise<boolean> {
    try {
      await conversationEvents.deliver(conversationId, event);
      return true;
    } catch (err) {
      logger.error({ err, conversationId, event: event.type }, 'handoff: conversation not notified');
      return false;
    }
  }

  return {
    publish,

    /** `onClose` runs when the hub shuts down, so long-lived streams can end (see close). */
    subscribe(listener: (e: HubEvent) => void, onClose?: () => void): () => void {
      subscribers.set(listener, onClose);
      return () => void subscribers.delete(listener);
    },

    /** Ends every subscription: open event streams would otherwise keep the HTTP server from closing. */
    close(): void {
      const closing = [...subscribers.values()];
      subscribers.clear();
      for (const onClose of closing) onClose?.();
    },

    /** Whether the viewer may see this handoff's messages (for filtering the live feed). */
    async canView(handoffId: string, viewer: StaffIdentity): Promise<boolean> {
      const row = await db.handoff.findUnique({ where: { id: handoffId }, select: { status: true, claimedBy: true } });
      return row !== null && canSee(row, viewer);
    },

    /** Open handoffs (queued and active) unless a status is given; highest priority, then longest waiting, first. */
    async list(viewer: StaffIdentity, status?: HandoffStatus): Promise<HandoffView[]> {
      const statuses: HandoffStatus[] = status ? [status] : ['queued', 'active'];
      const own = viewer.role === 'supervisor' ? {} : { OR: [{ status: 'queued' }, { claimedBy: viewer.username }] };
      const where = { status: { in: statuses }, ...own };
      const rows =
        status === 'resolved'
          ? // Resolved ones grow without end: the most recently closed are the ones worth showing.
            await db.handoff.findMany({ where, orderBy: [{ resolvedAt: 'desc' }], take: RESOLVED_LIST_LIMIT })
          : await db.handoff.findMany({ where, orderBy: [{ priority: 'desc' }, { createdAt: 'asc' }] });
      return views(rows);
    },

    /** The conversation's messages (inbound text as stored: identity details masked), oldest first. */
    async transcript(id: string, viewer: StaffIdentity): Promise<{ handoff: HandoffView; messages: TranscriptEntry[] }> {
      const row = await visibleRow(id, viewer);
      const rows = await db.message.findMany({ where: { conversationId: row.conversationId }, orderBy: { id: 'desc' }, take: TRANSCRIPT_LIMIT });
      const messages: TranscriptEntry[] = [];
      for (const m of rows.reverse()) {
        const activity = (parseJson(m.activity) ?? {}) as { type?: unknown; from?: { id?: string; name?: string }; attachments?: Array<{ contentType?: unknown; name?: unknown }> };
        // Events (handoff.initiate and the like) are for machines, not for the agent to read.
        if (activity.type !== undefined && activity.type !== 'message') continue;
        messages.push({
          id: m.id,
          direction: m.direction,
          text: m.text,
          at: m.createdAt.toISOString(),
          from: activity.from ? { id: activity.from.id, name: activity.from.name } : null,
          // Names and types only: a file's bytes (data: URLs) never go to the console.
          attachments: (activity.attachments ?? []).map((a) => ({ contentType: String(a.contentType ?? ''), ...(typeof a.name === 'string' ? { name: a.name } : {}) })),
        });
      }
      const [handoff] = await views([row]);
      return { handoff: handoff!, messages };
    },

    async claim(id: string, viewer: StaffIdentity): Promise<{ handoff: HandoffView; borrowerNotified: boolean }> {
      const now = clock();
      const { row, claimed } = await db.$transaction(async (tx) => {
        // Conditional on still being queued: of two agents claiming at once exactly one wins.
        const { count } = await tx.handoff.updateMany({ where: { id, status: 'queued' }, data: { status: 'active', claimedBy: viewer.username, claimedAt: now } });
        const row = await tx.handoff.findUnique({ where: { id } });
        if (!row) throw new HubError(404, 'not_found', `no handoff ${id}`);
        if (count === 0) {
          if (row.status === 'active' && row.claimedBy === viewer.username) return { row, claimed: false }; // claiming twice is harmless
          throw new HubError(409, 'already_claimed', row.status === 'resolved' ? `handoff ${id} is already resolved` : `handoff ${id} is already claimed by ${row.claimedBy}`);
        }
        await tx.auditLog.create({
          data: { at: now, actor: actor(viewer), action: 'handoff.claimed', borrowerId: row.borrowerId, conversationId: row.conversationId, details: JSON.stringify({ handoffId: id, waitingSeconds: seconds(row.createdAt, now) }) },
        });
        return { row, claimed: true };
      });
      let borrowerNotified = true; // a repeated claim: the borrower was told the first time
      if (claimed) {
        publish({ type: 'handoff.claimed', handoffId: id });
        borrowerNotified = await notifyConversation(row.conversationId, { type: 'HANDOFF_ACCEPTED', agent: viewer.username });
      }
      const [handoff] = await views([row]);
      return { handoff: handoff!, borrowerNotified };
    },

    /** Only the agent holding the handoff, or a supervisor, writes to the borrower. */
    async sendAgentMessage(id: string, viewer: StaffIdentity, text: string): Promise<{ at: string }> {
      const row = await visibleRow(id, viewer);
      if (row.status !== 'active') throw new HubError(409, 'not_active', row.status === 'queued' ? `claim handoff ${id} first` : `handoff ${id} is resolved`);
      if (row.claimedBy !== viewer.username && viewer.role !== 'supervisor') throw new HubError(403, 'not_yours', `handoff ${id} is held by ${row.claimedBy}`);
      const conversation = await db.conversation.findUnique({ where: { id: row.conversationId }, select: { locale: true } });
      const locale: Locale = LOCALES.find((l) => l === conversation?.locale) ?? 'zh-CN';
      const at = clock();
      const audit = (delivered: boolean) =>
        db.auditLog.create({
          data: { at, actor: actor(viewer), action: 'handoff.message', borrowerId: row.borrowerId, conversationId: row.conversationId, details: JSON.stringify({ handoffId: id, length: text.length, delivered }) },
        });
      try {
        await proactive.send(row.conversationId, [{ type: 'message', text, textFormat: 'markdown', locale, inputHint: 'expectingInput' }], {
          direction: 'agent',
          from: { id: actor(viewer), name: viewer.username },
        });
      } catch {
        // proactive.send logged the cause; the attempt is on record either way.
        await audit(false);
        throw new HubError(502, 'delivery_failed', 'the message could not be delivered to the borrower’s channel');
      }
      await audit(true);
      publish({ type: 'message', handoffId: id, conversationId: row.conversationId, direction: 'agent', text, at: at.toISOString() });
      return { at: at.toISOString() };
    },

    /**
     * Hands the conversation back to the bot. The holding agent or a supervisor may resolve an
     * active handoff; a queued one (e.g. a duplicate) only a supervisor may close unclaimed.
     */
    async resolve(id: string, viewer: StaffIdentity, note: string): Promise<{ handoff: HandoffView; borrowerNotified: boolean }> {
      const now = clock();
      const row = await db.$transaction(async (tx) => {
        const row = await tx.handoff.findUnique({ where: { id } });
        if (!row) throw new HubError(404, 'not_found', `no handoff ${id}`);
        if (row.status === 'resolved') throw new HubError(409, 'already_resolved', `handoff ${id} is already resolved`);
        const supervisor = viewer.role === 'supervisor';
        if (row.status === 'queued' && !supervisor) throw new HubError(409, 'not_active', `claim handoff ${id} first`);
        if (row.status === 'active' && row.claimedBy !== viewer.username && !supervisor) throw new HubError(403, 'not_yours', `handoff ${id} is held by ${row.claimedBy}`);
        // Conditional on what was checked above: a claim landing in between makes this a conflict, not an override.
        const { count } = await tx.handoff.updateMany({
          where: { id, status: row.status, claimedBy: row.claimedBy },
          data: { status: 'resolved', resolvedAt: now, resolutionNote: note },
        });
        if (count !== 1) throw new HubError(409, 'changed', `handoff ${id} changed meanwhile; reload and try again`);
        await tx.auditLog.create({
          data: { at: now, actor: actor(viewer), action: 'handoff.resolved', borrowerId: row.borrowerId, conversationId: row.conversationId, details: JSON.stringify({ handoffId: id, previousStatus: row.status, claimedBy: row.claimedBy }) },
        });
        return { ...row, status: 'resolved', resolvedAt: now, resolutionNote: note };
      });
      publish({ type: 'handoff.resolved', handoffId: id });
      const borrowerNotified = await notifyConversation(row.conversationId, { type: 'HANDOFF_RESOLVED', note });
      const [handoff] = await views([row]);
      return { handoff: handoff!, borrowerNotified };
    },

    /** Per agent: handoffs held now and resolved since `dayStart`; plus the queue's length and longest wait. */
    async agentLoad(dayStart: Date): Promise<AgentLoad> {
      const [accounts, active, resolved, queued] = await Promise.all([
        db.staffAccount.findMany({ where: { role: { in: ['agent', 'supervisor'] }, disabled: false }, select: { username: true, role: true }, orderBy: { username: 'asc' } }),
        db.handoff.groupBy({ by: ['claimedBy'], where: { status: 'active' }, _count: { _all: true } }),
        db.handoff.groupBy({ by: ['claimedBy'], where: { status: 'resolved', resolvedAt: { gte: dayStart } }, _count: { _all: true } }),
        db.handoff.findMany({ where: { status: 'queued' }, select: { createdAt: true }, orderBy: { createdAt: 'asc' } }),
      ]);
      const count = (groups: typeof active, username: string) => groups.find((g) => g.claimedBy === username)?._count._all ?? 0;
      const agents = new Map(accounts.map((a) => [a.username, a.role]));
      // Someone disabled since still holds or closed handoffs today: they count too.
      for (const g of [...active, ...resolved]) if (g.claimedBy && !agents.has(g.claimedBy)) agents.set(g.claimedBy, 'unknown');
      return {
        agents: [...agents].map(([username, role]) => ({ username, role, active: count(active, username), resolvedToday: count(resolved, username) })),
        queue: { queued: queued.length, longestWaitSeconds: queued[0] ? seconds(queued[0].createdAt, clock()) : 0 },
      };
    },
  };
}

export type HandoffHub = ReturnType<typeof createHandoffHub>;
