import { formatAmount } from './domain/money';
import type {
  ComplaintStatusView,
  ProofDraft,
  SuggestedAction,
  AccountSummary, OptionKind, OptionRefusal, OptionsView, PenaltyExplanation, PlanQuote, PlanQuoteResult, Reply, ReplyPart,
} from './conversationTypes';

/**
 * Replies built from what the actors computed: copy keys and values only, so every number a
 * borrower reads comes from the engine and every word from dialogs/copy.
 */
export const MENU_ACTIONS = ['amountDue', 'explainPenalty', 'repaymentOptions', 'alreadyPaid', 'complaint', 'human'];
export const OPTION_ACTIONS: Record<OptionKind, string> = {
  installments: 'installments',
  extension: 'extension',
  waiver: 'waiver',
  promise: 'promise',
};

export const reply = (parts: ReplyPart[], actions?: SuggestedAction[]): Reply => ({ type: 'reply', parts, ...(actions?.length ? { actions } : {}) });
const optionName = (kind: OptionKind) => ({ copy: `options.name.${kind}` });

export function summaryReply(summary: AccountSummary): Reply {
  const parts: ReplyPart[] = [];
  if (!summary.hasLoans) parts.push({ key: 'account.noLoans' });
  else if (summary.overdue.length === 0) parts.push({ key: 'account.nothingOverdue', params: { today: summary.today } });
  else {
    const { today, total, penalty, compound, lateFees } = summary;
    parts.push({ key: 'account.overdueSummary', params: { today, count: summary.overdue.length, maxDays: summary.maxDaysOverdue, total, penalty, compound, lateFees } });
    for (const line of summary.overdue) parts.push({ key: 'account.overdueLine', params: { ...line } });
  }
  if (summary.next) parts.push({ key: 'account.nextDue', params: { ...summary.next } });
  for (const o of summary.outcomes ?? []) {
    if (o.kind === 'complaint') parts.push({ key: 'outcome.complaintResolved', params: { id: o.id, resolution: o.resolution } });
    else parts.push({ key: o.status === 'verified' ? 'outcome.proofVerified' : 'outcome.proofRejected', params: { id: o.id, amount: o.amount, paidOn: o.paidOn, reason: o.reason ?? '' } });
  }
  for (const a of summary.agreements ?? []) {
    parts.push({ key: 'account.activeAgreement', params: { kind: { copy: `options.name.${a.kind}` }, reference: a.reference, nextDate: a.nextDate, nextAmount: a.nextAmount } });
  }
  return reply(parts);
}

export function proofReceivedReply(receipt: string, p: ProofDraft): Reply {
  const parts: ReplyPart[] = [
    { key: 'proof.received', params: { receipt, amount: formatAmount(p.amount ?? '0'), paidOn: p.paidOn ?? '', method: { copy: `proof.method.${p.method ?? 'other'}` } } },
  ];
  if (p.reference) parts.push({ key: 'proof.receivedReference', params: { reference: p.reference } });
  parts.push({ key: 'proof.next' });
  return reply(parts, MENU_ACTIONS);
}

export function complaintStatusReply(complaints: ComplaintStatusView[]): Reply {
  if (complaints.length === 0) return reply([{ key: 'complaint.status.none' }], ['complaint', ...MENU_ACTIONS.filter((a) => a !== 'complaint')]);
  return reply(
    [
      { key: 'complaint.status.header' },
      ...complaints.map((c) => ({
        key: c.status === 'resolved' ? 'complaint.status.resolvedLine' : 'complaint.status.line',
        params: { ticket: c.ticket, category: { copy: `complaint.category.${c.category}` }, status: { copy: `complaint.statusName.${c.status}` }, dueDate: c.dueDate, resolution: c.resolution ?? '' },
      })),
    ],
    MENU_ACTIONS,
  );
}

export function penaltyExplanationReply(e: PenaltyExplanation): Reply {
  if (e.lines.length === 0) return reply([{ key: 'penalty.nothingOverdue' }], MENU_ACTIONS);
  const parts: ReplyPart[] = [{ key: 'penalty.header', params: { today: e.today } }];
  for (const l of e.lines) {
    const { loanId, number, dueDate, days, principal, interest, annualRate, multiplier, cap, penaltyRate, dayBasis, penalty, compound, lateFee, total } = l;
    parts.push({ key: 'penalty.lineHead', params: { loanId, number, dueDate, days, principal, interest } });
    parts.push({ key: l.capApplied ? 'penalty.lineRateCapped' : 'penalty.lineRate', params: { annualRate, multiplier, cap, penaltyRate } });
    parts.push({ key: 'penalty.linePenalty', params: { principal, penaltyRate, dayBasis, days, penalty } });
    parts.push(l.compoundOn ? { key: 'penalty.lineCompound', params: { interest, penaltyRate, dayBasis, days, compound } } : { key: 'penalty.lineNoCompound' });
    parts.push({ key: 'penalty.lineTotal', params: { lateFee, total } });
  }
  const first = e.lines[0];
  if (e.anyCapApplied && first) parts.push({ key: 'penalty.capApplied', params: { multiplier: first.multiplier, cap: first.cap } });
  parts.push({ key: 'penalty.total', params: { total: e.total, penalty: e.penalty, compound: e.compound, lateFees: e.lateFees } });
  parts.push({ key: 'penalty.growth', params: { dailyGrowth: e.dailyGrowth } });
  return reply(parts, ['whyMuch', 'rateQuestion', 'repaymentOptions', 'waiver', 'human']);
}

export function penaltyFollowUpReply(e: PenaltyExplanation, question: 'whyMuch' | 'rateQuestion'): Reply {
  const first = e.lines[0];
  if (!first) return reply([{ key: 'penalty.nothingOverdue' }], MENU_ACTIONS);
  if (question === 'rateQuestion') {
    return reply([{ key: 'penalty.rate', params: { multiplier: first.multiplier, cap: first.cap, dayBasis: first.dayBasis, annualRate: first.annualRate, penaltyRate: first.penaltyRate } }], ['repaymentOptions', 'human']);
  }
  return reply([{ key: 'penalty.whyMuch', params: { maxDays: e.maxDays, penaltyPlusCompound: e.penaltyPlusCompound, dailyGrowth: e.dailyGrowth } }], ['repaymentOptions', 'waiver', 'human']);
}

export function consequencesReply(e: PenaltyExplanation): Reply {
  return reply([{ key: 'info.consequences', params: { dailyGrowth: e.dailyGrowth } }], ['repaymentOptions', 'repaymentMethods', 'human']);
}

function refusalLines(kind: OptionKind, reasons: OptionRefusal[]): ReplyPart[] {
  return reasons.map((r) => ({ key: `options.reason.${r.code}`, params: { option: optionName(kind), limit: r.limit ?? '' } }));
}

export function optionsReply(v: OptionsView): Reply {
  const offered = v.options.filter((o) => o.offered);
  if (offered.length === 0 && v.options.every((o) => o.reasons.some((r) => r.code === 'nothingDue'))) {
    return reply([{ key: 'options.nothingDue' }], ['repaymentMethods', ...MENU_ACTIONS]);
  }
  const parts: ReplyPart[] = [{ key: 'options.intro', params: { total: v.total, maxDays: v.maxDays } }];
  for (const o of offered) {
    if (o.kind === 'installments') {
      const ex = v.installments.example;
      parts.push({ key: 'options.installments', params: { counts: v.installments.counts.join('/'), count: ex?.count ?? '', amount: ex?.amount ?? '', firstDate: ex?.firstDate ?? '' } });
    }
    if (o.kind === 'extension') parts.push({ key: 'options.extension', params: { ...v.extension } });
    if (o.kind === 'waiver') parts.push({ key: 'options.waiver', params: { ...v.waiver } });
    if (o.kind === 'promise') parts.push({ key: 'options.promise', params: { ...v.promise } });
  }
  const refused = v.options.filter((o) => !o.offered);
  if (refused.length) {
    parts.push({ key: 'options.notOfferedHeader' });
    for (const o of refused) parts.push(...refusalLines(o.kind, o.reasons));
  }
  parts.push({ key: 'options.choose' });
  return reply(parts, [...offered.map((o) => OPTION_ACTIONS[o.kind]), 'human']);
}

export function quoteReply(q: PlanQuote): Reply {
  const { reference } = q;
  const amount = formatAmount(q.amount);
  const parts: ReplyPart[] = [];
  if (q.kind === 'installments') {
    parts.push({ key: 'plan.summary.installments', params: { reference, amount, count: q.count ?? q.schedule.length } });
    for (const p of q.schedule) parts.push({ key: 'plan.scheduleLine', params: { number: p.number, dueDate: p.dueDate, amount: formatAmount(p.amount) } });
    parts.push({ key: 'plan.installmentsNote' });
  } else {
    const params = { reference, amount, currentTotal: formatAmount(q.currentTotal), newDate: q.newDate ?? '', waiver: formatAmount(q.waiver ?? '0') };
    parts.push({ key: `plan.summary.${q.kind}`, params });
  }
  for (const replaced of q.replaces ?? []) parts.push({ key: 'plan.replaces', params: { reference: replaced } });
  parts.push({ key: 'plan.confirmQuestion' });
  return reply(parts, ['yes', 'no']);
}

/** Everything but a ready quote: what is missing, or why it cannot be agreed here. */
export function planProblemReply(r: Exclude<PlanQuoteResult, { status: 'quote' }>): Reply {
  switch (r.status) {
    case 'needs':
      if (r.field === 'count') return reply([{ key: 'plan.askCount', params: { counts: (r.counts ?? []).join('/') } }], (r.counts ?? []).map((count) => ({ key: 'actions.installmentsCount', params: { count } })));
      if (r.field === 'amount') return reply([{ key: 'plan.askPromiseAmount', params: { maxAmount: r.maxAmount ?? '' } }]);
      return reply([{ key: 'plan.askDate', params: { lastDate: r.lastDate ?? '' } }]);
    case 'refused':
      return reply([{ key: `plan.refused.${r.problem}`, params: { limit: r.limit } }], ['repaymentOptions', 'human']);
    case 'notOffered':
      return reply([{ key: 'plan.notOffered', params: { option: optionName(r.kind) } }, ...refusalLines(r.kind, r.reasons)], ['repaymentOptions', 'human']);
    case 'beyondSelfService':
      return reply([{ key: 'plan.beyondSelfService', params: { maxDays: r.maxDays } }], ['repaymentMethods', 'human']);
    case 'promised':
      return reply([{ key: 'plan.promised', params: { reference: r.reference, amount: r.amount, date: r.date } }, { key: 'plan.askPromiseAmount', params: { maxAmount: r.maxAmount } }]);
  }
}
