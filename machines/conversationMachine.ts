import { assign, emit, enqueueActions, fromPromise, raise, setup } from 'xstate';
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

/**
 * The borrower conversation: identity first (CONTRACT.md §4), then the account: summary and
 * menu, the penalty explained, repayment options, a plan quoted, confirmed and recorded.
 * The config uses named actions, guards and actors only; implementations live in `setup()` and
 * the I/O actors are given by the runtime (`machine.provide`), so this file does no I/O.
 */
export type Expectation = IdentityDetail | 'installmentCount' | 'confirmation' | 'proofAmount' | 'proofDate' | 'proofReference' | 'complaintText';

export interface ConversationContext {
  conversationId: string;
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
const nowOf = (event: ConversationEvent) => message(event)?.now ?? new Date().toISOString();
const borrowerInput = ({ context, event }: { context: ConversationContext; event: ConversationEvent }): BorrowerInput => ({
  borrowerId: context.borrower?.id ?? '',
  now: nowOf(event),
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
        confirmedAt: nowOf(event),
        ...(context.hardship && context.hardship !== 'asked' ? { hardship: context.hardship } : {}),
      }),
    ),
    sayAgreed: emit(({ context }) => reply([{ key: 'plan.agreed', params: { reference: context.quote?.reference ?? '' } }], ['repaymentMethods', ...MENU_ACTIONS])),
    sayPlanCancelled: emit(() => reply([{ key: 'plan.cancelled' }], ['repaymentOptions', ...MENU_ACTIONS])),
    clearPlan: assign({ planRequest: () => undefined, quote: () => undefined }),
  },
});

const intentIs = (intent: string) => ({ type: 'intentIs', params: { intent } }) as const;
const intentIn = (intents: string[]) => ({ type: 'intentIn', params: { intents } }) as const;
const quoteIs = (status: PlanQuoteResult['status']) => ({ type: 'quoteIs', params: { status } }) as const;

// Listed first in every state that reads messages: a rule that fired takes the conversation to a person.
const escalate = { guard: 'escalationPending', target: '#handoff' } as const;
// Listed first in every state that reads messages: a state's own catch-all would otherwise win.
const goodbye = { guard: intentIs('goodbye'), target: '#conversation.identity', actions: ['recordSessionEnded', 'forgetBorrower', 'sayGoodbye'] } as const;
/** "退订", "不要再联系我", "stop": no reminders until the borrower writes again. */
const stopContact = { guard: intentIs('stopContact'), actions: ['recordOptOut', 'sayOptedOut'] } as const;
const startPlan = (kind: OptionKind) =>
  ({ guard: intentIs(kind), target: '#account.plan', actions: ['noteHardship', { type: 'startPlanRequest', params: { kind } }] }) as const;

/** What a verified borrower can say anywhere in the account: the menu in words or buttons. */
const accountHandlers = [
  escalate,
  goodbye,
  // A file, or a transaction reference, means they are telling us about a payment, whatever else the words suggest.
  { guard: 'hasAttachment', target: '#account.proof', actions: ['mergeProof'] },
  { guard: 'paymentEvidence', target: '#account.proof', actions: ['mergeProof'] },
  { guard: intentIs('amountDue'), target: '#account.loading' },
  { guard: intentIs('explainPenalty'), target: '#account.penalty' },
  { guard: intentIn(['whyMuch', 'rateQuestion']), target: '#account.penalty' },
  startPlan('installments'),
  startPlan('extension'),
  startPlan('waiver'),
  startPlan('promise'),
  { guard: 'hardshipGiven', target: '#account.options', actions: ['assignHardship', 'recordHardship', 'sayHardshipAck'] },
  { guard: intentIs('repaymentOptions'), target: '#account.options' },
  { guard: intentIs('repaymentMethods'), actions: ['sayRepaymentMethods'] },
  { guard: intentIn(['consequences', 'refusePay']), target: '#account.consequences' },
  { guard: intentIs('changeLanguage'), actions: ['switchLanguage', 'sayLanguageSwitched'] },
  { guard: intentIs('alreadyPaid'), target: '#account.proof', actions: ['mergeProof'] },
  { guard: intentIs('complaintStatus'), target: '#account.complaintStatus' },
  { guard: intentIs('complaint'), target: '#account.complaint', actions: ['startComplaint'] },
  stopContact,
  { guard: intentIn(['help', 'greeting', 'identify', 'yes', 'no', 'skip']), actions: ['sayHelp'] },
  // Not understood: a clarifying question first; not understood again, a person.
  { guard: 'missedBefore', target: '#handoff', actions: [{ type: 'escalateTo', params: { rule: 'notUnderstood' } }] },
  { actions: ['countMiss', 'sayNotUnderstood'] },
] as const;

/** Every event handler uses names only, so this config is plain data (dialogs/flows later). */
export const conversationMachine = conversationSetup.createMachine({
  id: 'conversation',
  context: ({ input }) => ({ conversationId: input.conversationId, welcomed: false, pending: {} }),
  initial: 'identity',
  on: {
    SIGNALS: { actions: ['noteSignals'] },
    SESSION_EXPIRED: {
      guard: 'verifiedAndNotInHandoff',
      target: '.identity',
      actions: ['recordSessionEnded', 'forgetBorrower', 'markWelcomed', 'saySessionExpired'],
    },
  },
  states: {
    identity: {
      initial: 'collecting',
      states: {
        collecting: {
          on: {
            MESSAGE: [
              escalate,
              goodbye,
              { guard: 'identityComplete', target: 'checking', actions: ['mergeIdentity'] },
              { guard: 'identityGiven', actions: ['askForMissingIdentity', 'rememberExpected', 'mergeIdentity'] },
              // Before the welcome: an opt-out as the first message is honoured, not greeted.
              stopContact,
              { guard: 'notWelcomed', actions: [{ type: 'say', params: { key: 'conversation.welcome' } }, 'markWelcomed', 'askForMissingIdentity', 'rememberExpected'] },
              { guard: intentIs('changeLanguage'), actions: ['switchLanguage', 'askForMissingIdentity'] },
              { guard: intentIn(['greeting', 'help']), actions: ['askForMissingIdentity'] },
              { actions: [{ type: 'say', params: { key: 'identity.verifyFirst' } }, 'askForMissingIdentity'] },
            ],
          },
        },
        checking: {
          tags: ['busy'],
          invoke: {
            id: 'checkIdentity',
            src: 'checkIdentity',
            input: ({ context, event }) => ({
              phone: context.pending.phone ?? '',
              idLast4: context.pending.idLast4 ?? '',
              birthDate: context.pending.birthDate ?? '',
              conversationId: context.conversationId,
              now: nowOf(event),
            }),
            onDone: [
              { guard: 'checkVerified', target: '#account', actions: ['recordAttempt', 'recordVerified', 'assignBorrower', 'clearIdentity', 'sayVerified'] },
              { guard: 'checkLockedNow', target: 'locked', actions: ['recordAttempt', 'recordLock', 'clearIdentity', 'assignLock', 'sayLocked'] },
              { target: 'collecting', actions: ['recordAttempt', 'clearIdentity', 'sayMismatch'] },
            ],
            onError: { target: 'collecting', actions: ['clearIdentity', { type: 'say', params: { key: 'conversation.technicalProblem' } }] },
          },
        },
        locked: {
          on: {
            MESSAGE: [
              escalate,
              goodbye,
              { guard: 'lockExpired', target: 'collecting', actions: ['clearLock', 'reprocessMessage'] },
              { actions: ['sayStillLocked'] },
            ],
          },
        },
      },
    },
    account: {
      id: 'account',
      initial: 'loading',
      states: {
        loading: {
          tags: ['busy'],
          invoke: {
            id: 'loadAccount',
            src: 'loadAccount',
            input: borrowerInput,
            onDone: { target: 'menu', actions: ['saySummary', { type: 'recordDisclosure', params: { what: 'accountSummary' } }, 'recordOutcomesShown', 'sayMenu'] },
            onError: { target: 'menu', actions: [{ type: 'say', params: { key: 'account.summaryFailed', actions: MENU_ACTIONS } }] },
          },
        },
        menu: {
          on: { MESSAGE: [...accountHandlers] },
        },
        penalty: {
          initial: 'loading',
          states: {
            loading: {
              tags: ['busy'],
              invoke: {
                id: 'explainPenalty',
                src: 'explainPenalty',
                input: borrowerInput,
                onDone: { target: 'explained', actions: ['assignPenalty', 'sayPenaltyExplanation', { type: 'recordDisclosure', params: { what: 'penaltyExplanation' } }] },
                onError: { target: '#account.menu', actions: [{ type: 'say', params: { key: 'conversation.technicalProblem' } }] },
              },
            },
            explained: {
              on: {
                MESSAGE: [
                  escalate,
                  goodbye,
                  { guard: { type: 'penaltyFollowUp', params: { intents: ['whyMuch', 'rateQuestion', 'explainPenalty'] } }, actions: ['sayPenaltyFollowUp'] },
                  ...accountHandlers,
                ],
              },
            },
          },
        },
        consequences: {
          tags: ['busy'],
          invoke: {
            id: 'explainConsequences',
            src: 'explainPenalty',
            input: borrowerInput,
            onDone: { target: 'menu', actions: ['sayConsequences'] },
            onError: { target: 'menu', actions: [{ type: 'say', params: { key: 'conversation.technicalProblem' } }] },
          },
        },
        options: {
          initial: 'loading',
          states: {
            loading: {
              tags: ['busy'],
              invoke: {
                id: 'quoteOptions',
                src: 'quoteOptions',
                input: ({ context, event }) => ({
                  ...borrowerInput({ context, event }),
                  ...(context.hardship && context.hardship !== 'asked' ? { hardship: context.hardship } : {}),
                }),
                onDone: [
                  { guard: 'optionsBeyondSelfService', target: '#handoff', actions: [{ type: 'escalateTo', params: { rule: 'beyondSelfService' } }] },
                  { guard: 'hardshipNotAsked', target: 'askingHardship', actions: ['markHardshipAsked', 'askHardship'] },
                  { target: 'presenting', actions: ['sayOptions', { type: 'recordDisclosure', params: { what: 'repaymentOptions' } }] },
                ],
                onError: { target: '#account.menu', actions: [{ type: 'say', params: { key: 'conversation.technicalProblem' } }] },
              },
            },
            askingHardship: {
              on: {
                MESSAGE: [
                  escalate,
                  goodbye,
                  { guard: 'hardshipGiven', target: 'loading', actions: ['assignHardship', 'recordHardship', 'sayHardshipAck'] },
                  { guard: intentIn(['skip', 'no', 'repaymentOptions']), target: 'loading' },
                  ...accountHandlers,
                ],
              },
            },
            presenting: {
              on: { MESSAGE: [...accountHandlers] },
            },
          },
        },
        proof: {
          initial: 'routing',
          exit: [{ type: 'expect', params: {} }],
          states: {
            routing: {
              always: [
                { guard: 'proofNeedsFetch', target: 'fetching' },
                { guard: 'proofReady', target: 'checking' },
                { target: 'collecting', actions: ['askForProofDetail'] },
              ],
            },
            collecting: {
              on: { MESSAGE: [escalate, goodbye, { guard: 'proofInput', target: 'routing', actions: ['mergeProof'] }, ...accountHandlers] },
            },
            fetching: {
              tags: ['busy'],
              invoke: {
                id: 'receiveAttachment',
                src: 'receiveAttachment',
                input: ({ context }) => ({ attachment: context.proof?.attachment ?? {} }),
                onDone: [
                  { guard: { type: 'resultIs', params: { status: 'stored' } }, target: 'routing', actions: ['assignProofFile'] },
                  { guard: { type: 'resultIs', params: { status: 'duplicate' } }, target: '#account.menu', actions: ['sayProofDuplicate', 'clearProof'] },
                  { target: 'routing', actions: ['dropAttachment', 'sayAttachmentRefused'] },
                ],
                onError: { target: 'routing', actions: ['dropAttachment', { type: 'say', params: { key: 'conversation.technicalProblem' } }] },
              },
            },
            checking: {
              tags: ['busy'],
              invoke: {
                id: 'checkProof',
                src: 'checkProof',
                input: ({ context }) => ({ draft: context.proof ?? {} }),
                onDone: [
                  { guard: { type: 'resultIs', params: { status: 'duplicate' } }, target: '#account.menu', actions: ['sayProofDuplicate', 'clearProof'] },
                  { target: '#account.menu', actions: ['recordProof', 'sayProofReceived', 'clearProof'] },
                ],
                onError: { target: '#account.menu', actions: ['clearProof', { type: 'say', params: { key: 'conversation.technicalProblem' } }] },
              },
            },
          },
        },
        complaint: {
          initial: 'routing',
          exit: [{ type: 'expect', params: {} }],
          states: {
            routing: {
              always: [
                {
                  guard: { type: 'complaintMissing', params: { field: 'category' } },
                  target: 'category',
                  actions: [{ type: 'askComplaint', params: { key: 'complaint.askCategory', actions: ['category.collection_conduct', 'category.fees_and_penalties', 'category.privacy', 'category.repayment_processing', 'category.service', 'category.other'] } }],
                },
                { guard: { type: 'complaintMissing', params: { field: 'description' } }, target: 'description', actions: [{ type: 'askComplaint', params: { key: 'complaint.askDescription' } }] },
                { guard: { type: 'complaintMissing', params: { field: 'desiredOutcome' } }, target: 'outcome', actions: [{ type: 'askComplaint', params: { key: 'complaint.askOutcome' } }] },
                { target: 'filing' },
              ],
            },
            category: {
              on: { MESSAGE: [escalate, goodbye, { guard: 'hasCategory', target: 'routing', actions: ['setComplaintCategory'] }, ...accountHandlers] },
            },
            // What happened and what they want are the borrower's own words, whatever they are.
            description: {
              on: { MESSAGE: [escalate, goodbye, { guard: 'hasText', target: 'routing', actions: [{ type: 'setComplaintField', params: { field: 'description' } }] }] },
            },
            outcome: {
              on: { MESSAGE: [escalate, goodbye, { guard: 'hasText', target: 'routing', actions: [{ type: 'setComplaintField', params: { field: 'desiredOutcome' } }] }] },
            },
            filing: {
              tags: ['busy'],
              invoke: {
                id: 'prepareComplaint',
                src: 'prepareComplaint',
                input: ({ context, event }) => ({ category: context.complaint?.category ?? 'other', now: nowOf(event) }),
                onDone: [
                  // Conduct and privacy complaints: filed, its ticket given, then a person takes over.
                  {
                    guard: { type: 'resultSeverity', params: { severity: 'high' } },
                    target: '#handoff',
                    actions: ['assignFiling', 'recordComplaint', 'sayComplaintFiled', 'clearComplaint', { type: 'escalateTo', params: { rule: 'highSeverityComplaint' } }],
                  },
                  { target: '#account.menu', actions: ['assignFiling', 'recordComplaint', 'sayComplaintFiled', 'clearComplaint'] },
                ],
                onError: { target: '#account.menu', actions: ['clearComplaint', { type: 'say', params: { key: 'conversation.technicalProblem' } }] },
              },
            },
          },
        },
        complaintStatus: {
          tags: ['busy'],
          invoke: {
            id: 'loadComplaints',
            src: 'loadComplaints',
            input: ({ context }) => ({ borrowerId: context.borrower?.id ?? '' }),
            onDone: { target: 'menu', actions: ['sayComplaintStatus'] },
            onError: { target: 'menu', actions: [{ type: 'say', params: { key: 'conversation.technicalProblem' } }] },
          },
        },
        plan: {
          initial: 'quoting',
          states: {
            quoting: {
              tags: ['busy'],
              invoke: {
                id: 'quotePlan',
                src: 'quotePlan',
                input: ({ context, event }) => ({ ...borrowerInput({ context, event }), request: context.planRequest ?? { kind: 'promise' } }),
                onDone: [
                  { guard: quoteIs('quote'), target: 'confirming', actions: ['assignQuote', 'sayQuote'] },
                  { guard: { type: 'quoteNeeds', params: { field: 'count' } }, target: 'askingCount', actions: ['sayPlanProblem'] },
                  { guard: { type: 'quoteNeeds', params: { field: 'date' } }, target: 'askingDate', actions: ['sayPlanProblem'] },
                  { guard: quoteIs('needs'), target: 'askingAmount', actions: ['sayPlanProblem'] },
                  { guard: quoteIs('promised'), target: 'askingAmount', actions: ['sayPlanProblem', 'forgetPromiseRequest'] },
                  { guard: quoteIs('beyondSelfService'), target: '#handoff', actions: [{ type: 'escalateTo', params: { rule: 'beyondSelfService' } }] },
                  { target: '#account.menu', actions: ['sayPlanProblem', 'markRefused', 'clearPlan'] },
                ],
                onError: { target: '#account.menu', actions: ['clearPlan', { type: 'say', params: { key: 'conversation.technicalProblem' } }] },
              },
            },
            askingCount: {
              entry: [{ type: 'expect', params: { what: 'installmentCount' } }],
              exit: [{ type: 'expect', params: {} }],
              on: { MESSAGE: [escalate, goodbye, { guard: 'hasCount', target: 'quoting', actions: ['completePlanRequest'] }, ...accountHandlers] },
            },
            askingDate: {
              on: { MESSAGE: [escalate, goodbye, { guard: 'hasDate', target: 'quoting', actions: ['completePlanRequest'] }, ...accountHandlers] },
            },
            askingAmount: {
              on: { MESSAGE: [escalate, goodbye, { guard: 'hasAmount', target: 'quoting', actions: ['completePlanRequest'] }, ...accountHandlers] },
            },
            confirming: {
              entry: [{ type: 'expect', params: { what: 'confirmation' } }],
              exit: [{ type: 'expect', params: {} }],
              on: {
                MESSAGE: [
                  escalate,
                  goodbye,
                  { guard: intentIs('yes'), target: '#account.menu', actions: ['recordAgreement', 'sayAgreed', 'clearPlan'] },
                  { guard: intentIs('no'), target: '#account.menu', actions: ['sayPlanCancelled', 'clearPlan'] },
                  ...accountHandlers,
                ],
              },
            },
          },
        },
      },
    },
    handoff: {
      id: 'handoff',
      initial: 'routing',
      entry: ['beginHandoff', 'recordHandoff', 'sayEscalation'],
      states: {
        routing: {
          always: [{ guard: 'agentsAvailable', target: 'waiting', actions: ['sayQueued'] }, { target: 'waiting', actions: ['sayOutsideHours'] }],
        },
        // The bot stays silent while the borrower waits for, or talks with, a person; a crisis is answered at once.
        waiting: {
          on: {
            MESSAGE: [{ guard: 'crisisNow', actions: ['sayCrisis'] }],
            HANDOFF_ACCEPTED: 'withAgent',
            // The request stays in the queue as a call back; a complaint is offered too.
            HANDOFF_WAIT_EXCEEDED: { actions: [{ type: 'say', params: { key: 'handoff.waitExceeded', actions: ['complaint'] } }] },
          },
        },
        withAgent: {
          on: { MESSAGE: [{ guard: 'crisisNow', actions: ['sayCrisis'] }] },
        },
      },
      on: {
        HANDOFF_RESOLVED: [
          { guard: 'isVerified', target: '#account.menu', actions: ['endHandoff', 'sayBackFromAgent'] },
          { target: '#conversation.identity', actions: ['endHandoff', 'sayBackFromAgent'] },
        ],
      },
    },
  },
});
