import { assign, emit, enqueueActions, fromPromise, raise, setup } from 'xstate';
import { z } from 'zod';
import type { FlowCatalog } from '../dialogs/flowCheck';
import type {
  AccountInput,
  AccountSummary,
  AttachmentRef,
  AttachmentResult,
  ComplaintCategory,
  ComplaintDraft,
  ComplaintFiling,
  ComplaintStatusView,
  ProofCheck,
  ProofDraft,
  BorrowerInput,
  BorrowerRef,
  ConversationEvent,
  Emitted,
  HardshipReason,
  IdentityCheckInput,
  IdentityCheckResult,
  IdentityDetail,
  IdentityDetails,
  MessageEvent,
  OptionKind,
  OptionsInput,
  OptionsView,
  PenaltyExplanation,
  PlanQuote,
  PlanQuoteInput,
  PlanQuoteResult,
  PlanRequest,
  Reply,
  ReplyPart,
  TurnRecord,
} from './conversationTypes';
import {
  complaintStatusReply, consequencesReply, MENU_ACTIONS, proofReceivedReply, optionsReply, penaltyExplanationReply, penaltyFollowUpReply, planProblemReply, quoteReply, reply, summaryReply,
} from './replies';
import { mergeObjects } from './mergeObjects';

/**
 * The registry the flows in dialogs/flows/ are written against: every action, guard, actor and
 * invoke input mapper a flow may name, with what the flow checks need to know about each
 * (`conversationCatalog`). Flows are data; everything code-like lives here. The I/O actors are
 * placeholders the runtime replaces (`machine.provide`), so this file does no I/O.
 */
export type Expectation = IdentityDetail | 'installmentCount' | 'confirmation' | 'proofAmount' | 'proofDate' | 'proofReference' | 'complaintText';

export interface ConversationContext {
  conversationId: string;
  /**
   * The bot's clock at the start of the current turn (ISO), set by the turn runtime: what records
   * and actors' inputs are dated with, also on events that carry no time (an actor's result).
   */
  now: string;
  welcomed: boolean;
  pending: IdentityDetails;
  expecting?: Expectation;
  borrower?: BorrowerRef;
  lockedUntil?: string;
  lockedUntilLocal?: string;
  /** Why the borrower is behind; 'asked' once the question was put and not answered. */
  hardship?: HardshipReason | 'asked';
  penalty?: PenaltyExplanation;
  planRequest?: PlanRequest;
  quote?: PlanQuote;
  /** Messages that matched each counted escalation rule (anger: twice). */
  signalCounts?: Record<string, number>;
  /** Messages not understood in a row. */
  misses?: number;
  /** An escalation rule fired by the message being handled: the next handler takes it to a person. */
  escalation?: { rule: string; priority: number };
  /** While a person has (or is about to have) the conversation. */
  handoff?: { rule: string; priority: number };
  agentsAvailable?: boolean;
  priorities?: Record<string, number>;
  waitMinutes?: number;
  /** The last answer was a refusal of something beyond policy: asking for a person then says so. */
  refused?: boolean;
  /** The selfHarm rule matched the current message. */
  crisis?: boolean;
  /** What the borrower asked for, oldest first (for the agent's summary). */
  tried?: string[];
  proof?: ProofDraft;
  complaint?: ComplaintDraft;
  /** The language the borrower asked for, over the one on file. */
  language?: 'zh-CN' | 'en';
  /** The complaint just filed, between its ticket and its record. */
  filing?: ComplaintFiling;
}

export interface ConversationInput {
  conversationId: string;
  /** The bot's clock at the start of the turn (ISO). */
  now: string;
}

const IDENTITY_ORDER: IdentityDetail[] = ['phone', 'idLast4', 'birthDate'];
const ASK_KEY: Record<IdentityDetail, string> = { phone: 'identity.askPhone', idLast4: 'identity.askIdLast4', birthDate: 'identity.askBirthDate' };
const INVALID_KEY: Record<IdentityDetail, string> = { phone: 'identity.invalidPhone', idLast4: 'identity.invalidIdLast4', birthDate: 'identity.invalidBirthDate' };
const HARDSHIP_ACTIONS = ['hardship.job_loss', 'hardship.illness', 'hardship.income_drop', 'hardship.business_trouble', 'hardship.other', 'skip'];

function merged(context: ConversationContext, event: ConversationEvent): IdentityDetails {
  if (event.type !== 'MESSAGE') return context.pending;
  const { phone, idLast4, birthDate } = event.identity;
  return { phone: phone ?? context.pending.phone, idLast4: idLast4 ?? context.pending.idLast4, birthDate: birthDate ?? context.pending.birthDate };
}

const missingOf = (details: IdentityDetails) => IDENTITY_ORDER.filter((d) => !details[d]);
const message = (event: ConversationEvent): MessageEvent | undefined => (event.type === 'MESSAGE' ? event : undefined);
const output = <T>(event: unknown): T => (event as { output: T }).output;
const record = (r: TurnRecord): Emitted => ({ type: 'record', record: r });
const borrowerInput = ({ context }: { context: ConversationContext }): BorrowerInput => ({
  borrowerId: context.borrower?.id ?? '',
  now: context.now,
});

export const conversationSetup = setup({
  types: {
    context: {} as ConversationContext,
    events: {} as ConversationEvent,
    input: {} as ConversationInput,
    emitted: {} as Emitted,
  },
  actors: {
    // Placeholders: the runtime provides the real ones; calling these is a wiring bug.
    checkIdentity: fromPromise<IdentityCheckResult, IdentityCheckInput>(async () => {
      throw new Error('checkIdentity actor not provided');
    }),
    loadAccount: fromPromise<AccountSummary, AccountInput>(async () => {
      throw new Error('loadAccount actor not provided');
    }),
    explainPenalty: fromPromise<PenaltyExplanation, BorrowerInput>(async () => {
      throw new Error('explainPenalty actor not provided');
    }),
    quoteOptions: fromPromise<OptionsView, OptionsInput>(async () => {
      throw new Error('quoteOptions actor not provided');
    }),
    quotePlan: fromPromise<PlanQuoteResult, PlanQuoteInput>(async () => {
      throw new Error('quotePlan actor not provided');
    }),
    receiveAttachment: fromPromise<AttachmentResult, { attachment: AttachmentRef }>(async () => {
      throw new Error('receiveAttachment actor not provided');
    }),
    checkProof: fromPromise<ProofCheck, { draft: ProofDraft }>(async () => {
      throw new Error('checkProof actor not provided');
    }),
    prepareComplaint: fromPromise<ComplaintFiling, { category: ComplaintCategory; now: string }>(async () => {
      throw new Error('prepareComplaint actor not provided');
    }),
    loadComplaints: fromPromise<ComplaintStatusView[], { borrowerId: string }>(async () => {
      throw new Error('loadComplaints actor not provided');
    }),
  },
  guards: {
    intentIs: ({ event }, params: { intent: string }) => message(event)?.intent === params.intent,
    intentIn: ({ event }, params: { intents: string[] }) => params.intents.includes(message(event)?.intent ?? ''),
    identityComplete: ({ context, event }) => missingOf(merged(context, event)).length === 0,
    identityGiven: ({ event }) => {
      const m = message(event);
      return Boolean(m && (m.identity.phone || m.identity.idLast4 || m.identity.birthDate || m.identity.invalid.length));
    },
    notWelcomed: ({ context }) => !context.welcomed,
    escalationPending: ({ context }) => context.escalation !== undefined,
    missedBefore: ({ context }) => (context.misses ?? 0) >= 1,
    crisisNow: ({ context }) => context.crisis === true,
    notInHandoff: ({ context }) => context.handoff === undefined,
    agentsAvailable: ({ context }) => context.agentsAvailable !== false,
    isVerified: ({ context }) => context.borrower !== undefined,
    verifiedAndNotInHandoff: ({ context }) => context.borrower !== undefined && context.handoff === undefined,
    checkVerified: ({ event }) => output<IdentityCheckResult>(event).outcome === 'verified',
    checkLockedNow: ({ event }) => {
      const r = output<IdentityCheckResult>(event);
      return r.outcome === 'locked' || (r.outcome === 'mismatch' && r.lockUntil !== undefined);
    },
    lockExpired: ({ context, event }) => {
      const m = message(event);
      return !context.lockedUntil || (m !== undefined && Date.parse(m.now) >= Date.parse(context.lockedUntil));
    },
    hardshipGiven: ({ event }) => message(event)?.hardship !== undefined,
    hardshipNotAsked: ({ context }) => context.hardship === undefined,
    penaltyFollowUp: ({ context, event }, params: { intents: string[] }) => context.penalty !== undefined && params.intents.includes(message(event)?.intent ?? ''),
    optionsBeyondSelfService: ({ event }) => output<OptionsView>(event).beyondSelfService,
    quoteIs: ({ event }, params: { status: PlanQuoteResult['status'] }) => output<PlanQuoteResult>(event).status === params.status,
    quoteNeeds: ({ event }, params: { field: 'count' | 'date' | 'amount' }) => {
      const r = output<PlanQuoteResult>(event);
      return r.status === 'needs' && r.field === params.field;
    },
    hasCount: ({ event }) => message(event)?.count !== undefined,
    hasDate: ({ event }) => message(event)?.date !== undefined,
    hasAmount: ({ event }) => message(event)?.amount !== undefined,
    hasAttachment: ({ event }) => message(event)?.attachment !== undefined,
    proofInput: ({ event }) => {
      const m = message(event);
      return Boolean(m && (m.attachment || m.amount || m.pastDate || m.method || m.reference));
    },
    /** A transaction reference, or a method with an amount: the borrower is telling us they paid. */
    paymentEvidence: ({ event }) => {
      const m = message(event);
      return Boolean(m && (m.reference || (m.method && m.amount)));
    },
    proofNeedsFetch: ({ context }) => context.proof?.attachment !== undefined,
    proofReady: ({ context }) => {
      const p = context.proof ?? {};
      return Boolean(p.amount && p.paidOn && p.method && (p.file || p.reference));
    },
    resultIs: ({ event }, params: { status: string }) => output<{ status: string }>(event).status === params.status,
    complaintMissing: ({ context }, params: { field: keyof ComplaintDraft }) => !context.complaint?.[params.field],
    hasText: ({ event }) => (message(event)?.text.trim().length ?? 0) >= 2,
    hasCategory: ({ event }) => message(event)?.category !== undefined,
    resultSeverity: ({ event }, params: { severity: 'high' | 'normal' }) => output<ComplaintFiling>(event).severity === params.severity,
  },
  actions: {
    say: emit((_, params: { key: string; actions?: string[] }) => reply([{ key: params.key }], params.actions)),
    markWelcomed: assign({ welcomed: true }),
    mergeIdentity: assign({ pending: ({ context, event }) => merged(context, event) }),
    clearIdentity: assign({ pending: () => ({}), expecting: () => undefined }),
    /** Points out an invalid detail, then asks for the first one still missing (or all three). */
    askForMissingIdentity: emit(({ context, event }) => {
      const pending = merged(context, event);
      const parts: ReplyPart[] = (message(event)?.identity.invalid ?? [])
        .filter((d, i, all) => all.indexOf(d) === i && !pending[d])
        .map((d) => ({ key: INVALID_KEY[d] }));
      const missing = missingOf(pending);
      parts.push({ key: missing.length === IDENTITY_ORDER.length ? 'identity.askAll' : ASK_KEY[missing[0] as IdentityDetail] });
      return reply(parts);
    }),
    rememberExpected: assign({
      expecting: ({ context, event }) => {
        const missing = missingOf(merged(context, event));
        return missing.length === IDENTITY_ORDER.length ? undefined : missing[0];
      },
    }),
    expect: assign({ expecting: (_, params: { what?: Expectation }) => params.what }),
    recordAttempt: emit(({ event }) => {
      const r = output<IdentityCheckResult>(event);
      return record({ kind: 'identityAttempt', keys: r.outcome === 'locked' ? [] : r.attemptKeys, success: r.outcome === 'verified' });
    }),
    recordLock: emit(({ event }) => {
      const r = output<IdentityCheckResult>(event);
      return record({ kind: 'identityLock', keys: r.outcome === 'mismatch' ? r.attemptKeys : [], until: r.outcome === 'mismatch' ? (r.lockUntil as string) : '' });
    }),
    assignBorrower: assign({
      borrower: ({ event }) => {
        const r = output<IdentityCheckResult>(event);
        return r.outcome === 'verified' ? r.borrower : undefined;
      },
    }),
    recordVerified: emit(({ event }) => {
      const r = output<IdentityCheckResult>(event);
      return record({ kind: 'audit', action: 'identity.verified', borrowerId: r.outcome === 'verified' ? r.borrower.id : undefined, details: {} });
    }),
    sayVerified: emit(({ event }) => {
      const r = output<IdentityCheckResult>(event);
      return reply([{ key: 'identity.verified', params: { name: r.outcome === 'verified' ? r.borrower.name : '' } }]);
    }),
    sayMismatch: emit(({ event }) => {
      const r = output<IdentityCheckResult>(event);
      return reply([{ key: 'identity.mismatch', params: { attemptsLeft: r.outcome === 'mismatch' ? r.attemptsLeft : 0 } }, { key: 'identity.askAll' }]);
    }),
    assignLock: assign(({ event }) => {
      const r = output<IdentityCheckResult>(event);
      if (r.outcome === 'locked') return { lockedUntil: r.until, lockedUntilLocal: r.untilLocal };
      return r.outcome === 'mismatch' ? { lockedUntil: r.lockUntil, lockedUntilLocal: r.untilLocal } : {};
    }),
    sayLocked: emit(({ context, event }) => {
      const r = output<IdentityCheckResult>(event);
      const until = context.lockedUntilLocal ?? '';
      const part: ReplyPart = r.outcome === 'mismatch' ? { key: 'identity.locked', params: { until, minutes: r.lockMinutes } } : { key: 'identity.stillLocked', params: { until } };
      return reply([part], ['human']);
    }),
    sayStillLocked: emit(({ context }) => reply([{ key: 'identity.stillLocked', params: { until: context.lockedUntilLocal ?? '' } }], ['human'])),
    clearLock: assign({ lockedUntil: () => undefined, lockedUntilLocal: () => undefined }),
    reprocessMessage: raise(({ event }) => event),
    saySummary: emit(({ event }) => summaryReply(output<AccountSummary>(event))),
    recordDisclosure: emit(({ context, event }, params: { what: string }) => {
      const o = output<{ today?: string; total?: string; options?: OptionsView['options'] }>(event);
      // Which kinds were offered, for the reports (db/reports.ts).
      const offered = o.options?.filter((x) => x.offered).map((x) => x.kind);
      return record({ kind: 'audit', action: `disclosure.${params.what}`, borrowerId: context.borrower?.id, details: { asOf: o.today, total: o.total, ...(offered ? { offered } : {}) } });
    }),
    sayMenu: emit(() => reply([{ key: 'menu.prompt' }], MENU_ACTIONS)),
    sayHelp: emit(() => reply([{ key: 'help.menu' }], MENU_ACTIONS)),
    /** A clarifying question with the likeliest meanings as buttons, or the menu when there are none. */
    sayNotUnderstood: emit(({ event }) => {
      const alternatives = message(event)?.alternatives ?? [];
      return alternatives.length ? reply([{ key: 'conversation.clarify' }], [...alternatives, 'human']) : reply([{ key: 'conversation.notUnderstood' }], MENU_ACTIONS);
    }),
    switchLanguage: assign({ language: ({ context, event }) => message(event)?.switchTo ?? context.language }),
    sayLanguageSwitched: emit(() => reply([{ key: 'conversation.languageSwitched' }], MENU_ACTIONS)),
    countMiss: assign({ misses: ({ context }) => (context.misses ?? 0) + 1 }),
    sayGoodbye: emit(() => reply([{ key: 'conversation.goodbye' }])),
    // Opt-out of proactive messages: recorded, confirmed; writing again opts back in (db/conversationStore.ts).
    recordOptOut: emit(({ context }) =>
      record({ kind: 'contactPreference', optedOut: true, conversationId: context.conversationId, ...(context.borrower ? { borrowerId: context.borrower.id } : {}) }),
    ),
    sayOptedOut: emit(({ context }) => reply([{ key: 'contact.optedOut' }], context.borrower ? MENU_ACTIONS : [])),
    saySessionExpired: emit(({ event }) => reply([{ key: 'conversation.sessionExpired', params: { minutes: event.type === 'SESSION_EXPIRED' ? event.idleMinutes : 30 } }])),
    recordSessionEnded: emit(({ context, event }) =>
      record({ kind: 'audit', action: 'session.ended', borrowerId: context.borrower?.id, details: { reason: event.type === 'SESSION_EXPIRED' ? 'idle' : 'goodbye' } }),
    ),
    forgetBorrower: assign({ borrower: () => undefined, welcomed: false, pending: () => ({}), expecting: () => undefined, hardship: () => undefined, penalty: () => undefined, planRequest: () => undefined, quote: () => undefined }),

    // escalation and handoff
    /** Reads the escalation rules' signals for this message; decides whether it goes to a person. */
    noteSignals: assign(({ context, event }) => {
      if (event.type !== 'SIGNALS') return {};
      const crisis = event.signals.some((s) => s.rule === 'selfHarm');
      if (context.handoff) return { crisis };
      const signalCounts = { ...context.signalCounts };
      const candidates: Array<{ rule: string; priority: number }> = [];
      for (const s of event.signals) {
        signalCounts[s.rule] = (signalCounts[s.rule] ?? 0) + 1;
        if ((signalCounts[s.rule] ?? 0) >= s.times) candidates.push({ rule: s.rule, priority: s.priority });
      }
      // A message the flow understood ends a run of misunderstandings (the catch-all counts them).
      const misses = event.intent === 'none' ? (context.misses ?? 0) : 0;
      const p = event.priorities;
      // In free text (a complaint's description) "客服" is a word, not a request: only a button counts.
      const asked = event.intent === 'human' && (context.expecting !== 'complaintText' || event.confidence >= 1);
      if (asked) {
        const rule = context.lockedUntil ? 'identityLockout' : context.refused ? 'beyondPolicy' : 'explicitRequest';
        candidates.push({ rule, priority: p[rule] ?? 40 });
      }
      candidates.sort((a, b) => b.priority - a.priority);
      const tried = ['none', 'identify', 'greeting', 'yes', 'no'].includes(event.intent) ? context.tried : [...(context.tried ?? []), event.intent].slice(-10);
      return {
        signalCounts,
        misses,
        crisis,
        escalation: candidates[0],
        agentsAvailable: event.agentsAvailable,
        priorities: p,
        waitMinutes: event.expectedWaitMinutes,
        ...(tried ? { tried } : {}),
      };
    }),
    escalateTo: assign({ escalation: ({ context }, params: { rule: string }) => ({ rule: params.rule, priority: context.priorities?.[params.rule] ?? 50 }) }),
    beginHandoff: assign({
      handoff: ({ context }) => context.escalation ?? { rule: 'explicitRequest', priority: 40 },
      escalation: () => undefined,
      misses: 0,
      refused: false,
    }),
    recordHandoff: emit(({ context }) => {
      const h = context.handoff ?? { rule: 'explicitRequest', priority: 40 };
      return record({
        kind: 'handoff',
        rule: h.rule,
        priority: h.priority,
        ...(context.borrower ? { borrowerId: context.borrower.id } : {}),
        summary: {
          verified: context.borrower !== undefined,
          ...(context.borrower ? { borrowerName: context.borrower.name } : {}),
          ...(context.penalty ? { amountDue: context.penalty.total } : {}),
          ...(context.hardship && context.hardship !== 'asked' ? { hardship: context.hardship } : {}),
          tried: context.tried ?? [],
          agentsAvailable: context.agentsAvailable !== false,
        },
      });
    }),
    sayEscalation: emit(({ context }) => reply([{ key: `escalation.${context.handoff?.rule ?? 'explicitRequest'}` }])),
    sayQueued: emit(({ context }) => reply([{ key: 'handoff.queued', params: { waitMinutes: context.waitMinutes ?? 5 } }])),
    sayOutsideHours: emit(() => reply([{ key: 'handoff.outsideHours' }], ['complaint'])),
    sayCrisis: emit(() => reply([{ key: 'escalation.selfHarm' }])),
    endHandoff: assign({ handoff: () => undefined, crisis: false, signalCounts: () => ({}) }),
    sayBackFromAgent: emit(() => reply([{ key: 'handoff.resolved' }], MENU_ACTIONS)),
    markRefused: assign({ refused: ({ event }) => output<PlanQuoteResult>(event).status === 'refused' }),

    // proof of payment
    /** Everything the message says about a payment, added to the draft. */
    mergeProof: assign({
      proof: ({ context, event }) => {
        const m = message(event);
        const p = { ...context.proof };
        if (m?.amount) p.amount = m.amount;
        if (m?.pastDate) p.paidOn = m.pastDate;
        if (m?.method) p.method = m.method;
        if (m?.reference) p.reference = m.reference;
        if (m?.attachment) p.attachment = m.attachment;
        return p;
      },
    }),
    assignProofFile: assign({
      proof: ({ context, event }) => {
        const r = output<AttachmentResult>(event);
        const { attachment: _fetched, ...rest } = context.proof ?? {};
        return r.status === 'stored' ? { ...rest, file: r.file } : rest;
      },
    }),
    dropAttachment: assign({
      proof: ({ context }) => {
        const { attachment: _refused, ...rest } = context.proof ?? {};
        return rest;
      },
    }),
    /** Asks for the first detail still missing: the file or reference, the amount, the date, the method. */
    askForProofDetail: enqueueActions(({ context, enqueue }) => {
      const p = context.proof ?? {};
      const [key, expecting, actions]: [string, Expectation, string[]] = !p.file && !p.reference
        ? ['proof.askFile', 'proofReference', []]
        : !p.amount
          ? ['proof.askAmount', 'proofAmount', []]
          : !p.paidOn
            ? ['proof.askDate', 'proofDate', []]
            : ['proof.askMethod', 'proofReference', ['method.bank_transfer', 'method.alipay', 'method.wechat_pay', 'method.other']];
      enqueue.assign({ expecting });
      enqueue.emit(reply([{ key }], actions));
    }),
    sayAttachmentRefused: emit(({ event }) => {
      const r = output<AttachmentResult>(event);
      return reply([{ key: `proof.refused.${r.status === 'refused' ? r.reason : 'unreachable'}` }]);
    }),
    sayProofDuplicate: emit(({ event }) => {
      const r = output<{ receipt: string }>(event);
      return reply([{ key: 'proof.duplicate', params: { receipt: r.receipt } }], MENU_ACTIONS);
    }),
    recordProof: emit(({ context, event }) => {
      const p = context.proof ?? {};
      return record({
        kind: 'proof',
        borrowerId: context.borrower?.id ?? '',
        receipt: output<ProofCheck>(event).receipt,
        amount: p.amount ?? '0.00',
        paidOn: p.paidOn ?? '',
        method: p.method ?? 'other',
        ...(p.reference ? { reference: p.reference } : {}),
        ...(p.file ? { file: p.file } : {}),
      });
    }),
    sayProofReceived: emit(({ context, event }) => proofReceivedReply(output<ProofCheck>(event).receipt, context.proof ?? {})),
    clearProof: assign({ proof: () => undefined, expecting: () => undefined }),

    // complaints
    startComplaint: assign({
      complaint: ({ event }) => {
        const m = message(event);
        // "投诉催收员天天打电话骂我" already says what happened; a bare "投诉" does not.
        const said = m && m.text.trim().length >= 12 ? { description: m.text.trim() } : {};
        return { ...(m?.category ? { category: m.category } : {}), ...said };
      },
      filing: () => undefined,
    }),
    setComplaintField: assign({
      complaint: ({ context, event }, params: { field: 'description' | 'desiredOutcome' }) => ({ ...context.complaint, [params.field]: message(event)?.text.trim() ?? '' }),
    }),
    setComplaintCategory: assign({ complaint: ({ context, event }) => ({ ...context.complaint, category: message(event)?.category ?? 'other' }) }),
    askComplaint: enqueueActions(({ enqueue }, params: { key: string; actions?: string[] }) => {
      enqueue.assign({ expecting: params.key === 'complaint.askCategory' ? undefined : 'complaintText' });
      enqueue.emit(reply([{ key: params.key }], params.actions));
    }),
    assignFiling: assign({ filing: ({ event }) => output<ComplaintFiling>(event) }),
    recordComplaint: emit(({ context }) => {
      const c = context.complaint ?? {};
      const f = context.filing as ComplaintFiling;
      return record({
        kind: 'complaint',
        borrowerId: context.borrower?.id ?? '',
        ticket: f.ticket,
        category: c.category ?? 'other',
        description: c.description ?? '',
        desiredOutcome: c.desiredOutcome ?? '',
        dueDate: f.dueDate,
      });
    }),
    sayComplaintFiled: emit(({ context }) => reply([{ key: 'complaint.filed', params: { ticket: context.filing?.ticket ?? '', dueDate: context.filing?.dueDate ?? '' } }], MENU_ACTIONS)),
    clearComplaint: assign({ complaint: () => undefined, filing: () => undefined, expecting: () => undefined }),
    sayComplaintStatus: emit(({ event }) => complaintStatusReply(output<ComplaintStatusView[]>(event))),
    recordOutcomesShown: emit(({ event }) => record({ kind: 'outcomesNotified', ids: (output<AccountSummary>(event).outcomes ?? []).map((o) => o.id) })),

    // penalty
    assignPenalty: assign({ penalty: ({ event }) => output<PenaltyExplanation>(event) }),
    sayPenaltyExplanation: emit(({ event }) => penaltyExplanationReply(output<PenaltyExplanation>(event))),
    sayPenaltyFollowUp: emit(({ context, event }) =>
      penaltyFollowUpReply(context.penalty as PenaltyExplanation, message(event)?.intent === 'rateQuestion' ? 'rateQuestion' : 'whyMuch'),
    ),
    sayConsequences: emit(({ event }) => consequencesReply(output<PenaltyExplanation>(event))),
    sayRepaymentMethods: emit(() => reply([{ key: 'info.repaymentMethods' }], ['repaymentOptions', 'human'])),

    // hardship
    markHardshipAsked: assign({ hardship: ({ context }) => context.hardship ?? 'asked' }),
    askHardship: emit(() => reply([{ key: 'hardship.question' }], HARDSHIP_ACTIONS)),
    assignHardship: assign({ hardship: ({ event }) => message(event)?.hardship }),
    /** A reason mentioned along the way ("失业了，能不能晚点还") is kept without asking. */
    noteHardship: enqueueActions(({ context, event, enqueue }) => {
      const reason = message(event)?.hardship;
      if (!reason || context.hardship === reason) return;
      enqueue.assign({ hardship: reason });
      enqueue.emit(record({ kind: 'hardship', borrowerId: context.borrower?.id ?? '', reason }));
    }),
    recordHardship: emit(({ context, event }) => record({ kind: 'hardship', borrowerId: context.borrower?.id ?? '', reason: message(event)?.hardship ?? 'other' })),
    sayHardshipAck: emit(({ event }) => reply([{ key: `hardship.ack.${message(event)?.hardship ?? 'other'}` }])),

    // options and plans
    sayOptions: emit(({ event }) => optionsReply(output<OptionsView>(event))),
    /** A new request from what the borrower said: the option, and any count, date or amount given. */
    startPlanRequest: assign({
      planRequest: ({ event }, params: { kind: OptionKind }) => {
        const m = message(event);
        return { kind: params.kind, ...(m?.count !== undefined ? { count: m.count } : {}), ...(m?.date ? { date: m.date } : {}), ...(m?.amount ? { amount: m.amount } : {}) };
      },
      quote: () => undefined,
    }),
    /** Adds what the borrower just said to the request being completed. */
    completePlanRequest: assign({
      planRequest: ({ context, event }) => {
        const m = message(event);
        const r = context.planRequest as PlanRequest;
        return { ...r, ...(m?.count !== undefined ? { count: m.count } : {}), ...(m?.date ? { date: m.date } : {}), ...(m?.amount ? { amount: m.amount } : {}) };
      },
    }),
    assignQuote: assign({ quote: ({ event }) => (output<PlanQuoteResult>(event) as { quote: PlanQuote }).quote }),
    sayQuote: emit(({ event }) => quoteReply((output<PlanQuoteResult>(event) as { quote: PlanQuote }).quote)),
    sayPlanProblem: emit(({ event }) => planProblemReply(output<Exclude<PlanQuoteResult, { status: 'quote' }>>(event))),
    forgetPromiseRequest: assign({ planRequest: () => ({ kind: 'promise' as const }) }),
    recordAgreement: emit(({ context, event }) =>
      record({
        kind: 'agreement',
        borrowerId: context.borrower?.id ?? '',
        quote: context.quote as PlanQuote,
        confirmedAt: context.now,
        ...(context.hardship && context.hardship !== 'asked' ? { hardship: context.hardship } : {}),
      }),
    ),
    sayAgreed: emit(({ context }) => reply([{ key: 'plan.agreed', params: { reference: context.quote?.reference ?? '' } }], ['repaymentMethods', ...MENU_ACTIONS])),
    sayPlanCancelled: emit(() => reply([{ key: 'plan.cancelled' }], ['repaymentOptions', ...MENU_ACTIONS])),
    clearPlan: assign({ planRequest: () => undefined, quote: () => undefined }),
  },
});

type MapperArgs = { context: ConversationContext; event: ConversationEvent };

/** What each invoked actor is given, named so flows refer to them (an invoke's `input`). */
export const inputMappers = {
  identityCheckInput: ({ context }: MapperArgs): IdentityCheckInput => ({
    phone: context.pending.phone ?? '',
    idLast4: context.pending.idLast4 ?? '',
    birthDate: context.pending.birthDate ?? '',
    conversationId: context.conversationId,
    now: context.now,
  }),
  borrowerInput,
  optionsInput: ({ context }: MapperArgs): OptionsInput =>
    mergeObjects(borrowerInput({ context }), context.hardship && context.hardship !== 'asked' ? { hardship: context.hardship } : {}),
  planQuoteInput: ({ context }: MapperArgs): PlanQuoteInput => mergeObjects(borrowerInput({ context }), { request: context.planRequest ?? { kind: 'promise' } }),
  attachmentInput: ({ context }: MapperArgs): { attachment: AttachmentRef } => ({ attachment: context.proof?.attachment ?? {} }),
  proofDraftInput: ({ context }: MapperArgs): { draft: ProofDraft } => ({ draft: context.proof ?? {} }),
  complaintInput: ({ context }: MapperArgs): { category: ComplaintCategory; now: string } => ({ category: context.complaint?.category ?? 'other', now: context.now }),
  borrowerIdInput: ({ context }: MapperArgs): { borrowerId: string } => ({ borrowerId: context.borrower?.id ?? '' }),
} satisfies Record<string, (args: MapperArgs) => unknown>;

/** A new conversation's context (not part of the flow: it is where the runtime's data lives). */
export const initialContext = ({ input }: { input: ConversationInput }): ConversationContext => ({ conversationId: input.conversationId, now: input.now, welcomed: false, pending: {} });

/**
 * Reply keys that speak about the borrower's account. `say` is generic, so whether it discloses
 * depends on the key it is given.
 */
const ACCOUNT_COPY = /^(account\.|penalty\.|options\.|plan\.|proof\.|complaint\.|outcome\.|info\.consequences|identity\.verified$)/;
const suggestionKeys = (actions: unknown) => (Array.isArray(actions) ? actions.map((a) => `actions.${String(a)}`) : []);
const replyParams = z.object({ key: z.string().min(1), actions: z.array(z.string().min(1)).optional() });
const replyKeys = (p: Record<string, unknown>) => [String(p.key), ...suggestionKeys(p.actions)];
const EXPECTATIONS = ['phone', 'idLast4', 'birthDate', 'installmentCount', 'confirmation', 'proofAmount', 'proofDate', 'proofReference', 'complaintText'] as const;
const OPTION_KINDS = ['installments', 'extension', 'waiver', 'promise'] as const;
const intentList = z.array(z.string().min(1)).min(1);

/**
 * What the flow checks (dialogs/flowCheck.ts) know about the registry: every name a flow may use,
 * the parameters each takes, and which ones disclose the debt, verify or forget the borrower.
 * A test keeps these names equal to the implementations above.
 */
export const conversationCatalog: FlowCatalog = {
  actions: {
    say: { params: replyParams, copyKeys: replyKeys, discloses: (p) => ACCOUNT_COPY.test(String(p.key)) },
    markWelcomed: {},
    mergeIdentity: {},
    clearIdentity: {},
    askForMissingIdentity: {},
    rememberExpected: {},
    expect: { params: z.object({ what: z.enum(EXPECTATIONS).optional() }) },
    recordAttempt: {},
    recordLock: {},
    assignBorrower: { verifies: true },
    recordVerified: {},
    sayVerified: { discloses: true },
    sayMismatch: {},
    assignLock: {},
    sayLocked: {},
    sayStillLocked: {},
    clearLock: {},
    reprocessMessage: {},
    saySummary: { discloses: true },
    recordDisclosure: { params: z.object({ what: z.string().min(1) }), discloses: true },
    sayMenu: {},
    sayHelp: {},
    sayNotUnderstood: {},
    switchLanguage: {},
    sayLanguageSwitched: {},
    countMiss: {},
    sayGoodbye: {},
    recordOptOut: {},
    sayOptedOut: {},
    saySessionExpired: {},
    recordSessionEnded: {},
    forgetBorrower: { forgetsIdentity: true },
    noteSignals: {},
    escalateTo: { params: z.object({ rule: z.string().min(1) }), copyKeys: (p) => [`escalation.${String(p.rule)}`] },
    beginHandoff: {},
    recordHandoff: {},
    sayEscalation: {},
    sayQueued: {},
    sayOutsideHours: {},
    sayCrisis: {},
    endHandoff: {},
    sayBackFromAgent: {},
    markRefused: {},
    mergeProof: {},
    assignProofFile: {},
    dropAttachment: {},
    askForProofDetail: { discloses: true },
    sayAttachmentRefused: { discloses: true },
    sayProofDuplicate: { discloses: true },
    recordProof: {},
    sayProofReceived: { discloses: true },
    clearProof: {},
    startComplaint: {},
    setComplaintField: { params: z.object({ field: z.enum(['description', 'desiredOutcome']) }) },
    setComplaintCategory: {},
    askComplaint: { params: replyParams, copyKeys: replyKeys, discloses: true },
    assignFiling: {},
    recordComplaint: {},
    sayComplaintFiled: { discloses: true },
    clearComplaint: {},
    sayComplaintStatus: { discloses: true },
    recordOutcomesShown: {},
    assignPenalty: {},
    sayPenaltyExplanation: { discloses: true },
    sayPenaltyFollowUp: { discloses: true },
    sayConsequences: { discloses: true },
    sayRepaymentMethods: {},
    markHardshipAsked: {},
    askHardship: {},
    assignHardship: {},
    noteHardship: {},
    recordHardship: {},
    sayHardshipAck: {},
    sayOptions: { discloses: true },
    startPlanRequest: { params: z.object({ kind: z.enum(OPTION_KINDS) }) },
    completePlanRequest: {},
    assignQuote: {},
    sayQuote: { discloses: true },
    sayPlanProblem: { discloses: true },
    forgetPromiseRequest: {},
    recordAgreement: {},
    sayAgreed: { discloses: true },
    sayPlanCancelled: { discloses: true },
    clearPlan: {},
  },
  guards: {
    intentIs: { params: z.object({ intent: z.string().min(1) }), intents: (p) => [String(p.intent)] },
    intentIn: { params: z.object({ intents: intentList }), intents: (p) => (p.intents as string[]) },
    identityComplete: {},
    identityGiven: {},
    notWelcomed: {},
    escalationPending: {},
    missedBefore: {},
    crisisNow: {},
    notInHandoff: {},
    agentsAvailable: {},
    isVerified: { requiresVerified: true },
    verifiedAndNotInHandoff: { requiresVerified: true },
    checkVerified: { verifies: true },
    checkLockedNow: {},
    lockExpired: {},
    hardshipGiven: {},
    hardshipNotAsked: {},
    penaltyFollowUp: { params: z.object({ intents: intentList }), intents: (p) => (p.intents as string[]) },
    optionsBeyondSelfService: {},
    quoteIs: { params: z.object({ status: z.enum(['quote', 'needs', 'refused', 'notOffered', 'beyondSelfService', 'promised']) }) },
    quoteNeeds: { params: z.object({ field: z.enum(['count', 'date', 'amount']) }) },
    hasCount: {},
    hasDate: {},
    hasAmount: {},
    hasAttachment: {},
    proofInput: {},
    paymentEvidence: {},
    proofNeedsFetch: {},
    proofReady: {},
    resultIs: { params: z.object({ status: z.string().min(1) }) },
    complaintMissing: { params: z.object({ field: z.enum(['category', 'description', 'desiredOutcome']) }) },
    hasText: {},
    hasCategory: {},
    resultSeverity: { params: z.object({ severity: z.enum(['high', 'normal']) }) },
  },
  actors: {
    checkIdentity: {},
    loadAccount: { readsAccount: true },
    explainPenalty: { readsAccount: true },
    quoteOptions: { readsAccount: true },
    quotePlan: { readsAccount: true },
    receiveAttachment: { readsAccount: true },
    checkProof: { readsAccount: true },
    prepareComplaint: { readsAccount: true },
    loadComplaints: { readsAccount: true },
  },
  inputMappers: Object.keys(inputMappers),
  events: ['MESSAGE', 'SIGNALS', 'SESSION_EXPIRED', 'HANDOFF_ACCEPTED', 'HANDOFF_RESOLVED', 'HANDOFF_WAIT_EXCEEDED'],
  borrowerEvents: ['MESSAGE'],
  handoffStateId: 'handoff',
};
