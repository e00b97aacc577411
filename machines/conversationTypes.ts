/**
 * The plain data that crosses the machine's boundary: events in, replies and records out, and
 * what the actors it is given return. No Bot Framework or database types here.
 */
export interface IdentityDetails {
  phone?: string;
  idLast4?: string;
  birthDate?: string;
}

export type IdentityDetail = keyof IdentityDetails;

export interface MessageEvent {
  type: 'MESSAGE';
  text: string;
  intent: string;
  identity: IdentityDetails & { invalid: IdentityDetail[] };
  /** Entities the borrower gave: an amount ("3500.00"), a local date, an installment count, a hardship reason. */
  amount?: string;
  date?: string;
  count?: number;
  hardship?: HardshipReason;
  /** The date read as a day in the past (a payment date): "11月20日" said on Nov 22 is this year's. */
  pastDate?: string;
  method?: PaymentMethod;
  /** A transaction reference (流水号) as given. */
  reference?: string;
  category?: ComplaintCategory;
  attachment?: AttachmentRef;
  /** The likeliest intents when the message was not understood, for a clarifying question. */
  alternatives?: string[];
  /** The language asked for ("说中文", "English please"). */
  switchTo?: 'zh-CN' | 'en';
  /** ISO instant of the turn (the bot's clock). */
  now: string;
}

export interface SessionExpiredEvent {
  type: 'SESSION_EXPIRED';
  idleMinutes: number;
}

/** Sent before each message: what the escalation rules saw in it (dialogs/escalation/rules.json). */
export interface SignalsEvent {
  type: 'SIGNALS';
  intent: string;
  /** 1 for a suggested action's title, clicked or typed; lower for words the recogniser weighed. */
  confidence: number;
  signals: Array<{ rule: string; priority: number; times: number }>;
  /** Whether agents are working now (dialogs/policy/handoff.json agentHours). */
  agentsAvailable: boolean;
  /** Priorities of the rules the conversation itself raises (a request for a person, not understood twice…). */
  priorities: Record<string, number>;
  expectedWaitMinutes: number;
}

/** From the agent hub (built in, or an external one's handoff.status). */
export interface HandoffAcceptedEvent {
  type: 'HANDOFF_ACCEPTED';
  agent: string;
}
export interface HandoffResolvedEvent {
  type: 'HANDOFF_RESOLVED';
  note?: string;
}
/** No agent took the conversation within the configured wait. */
export interface HandoffWaitExceededEvent {
  type: 'HANDOFF_WAIT_EXCEEDED';
}

export type ConversationEvent = MessageEvent | SessionExpiredEvent | SignalsEvent | HandoffAcceptedEvent | HandoffResolvedEvent | HandoffWaitExceededEvent;
export type HubConversationEvent = HandoffAcceptedEvent | HandoffResolvedEvent | HandoffWaitExceededEvent;

/** A value, or `{ copy }`: another message rendered in the same language (e.g. a feature's name). */
export type CopyParamValue = string | number | { copy: string };

export interface ReplyPart {
  key: string;
  params?: Record<string, CopyParamValue>;
}

export type SuggestedAction = string | { key: string; params: Record<string, CopyParamValue> };

/** One message to the borrower: copy keys rendered in the conversation's language at the edge. */
export interface Reply {
  type: 'reply';
  parts: ReplyPart[];
  /** Suggested actions: an intent name (its title is the copy key `actions.<intent>`), or a title with values. */
  actions?: SuggestedAction[];
}

/** What a turn asks to be written, in the same transaction as the snapshot. */
export type TurnRecord =
  | { kind: 'identityAttempt'; keys: string[]; success: boolean }
  | { kind: 'identityLock'; keys: string[]; until: string }
  | { kind: 'audit'; action: string; borrowerId?: string; details: Record<string, unknown> }
  | { kind: 'hardship'; borrowerId: string; reason: HardshipReason }
  | { kind: 'agreement'; borrowerId: string; quote: PlanQuote; confirmedAt: string; hardship?: HardshipReason }
  | { kind: 'handoff'; rule: string; priority: number; borrowerId?: string; summary: HandoffSummary }
  | { kind: 'proof'; borrowerId: string; receipt: string; amount: string; paidOn: string; method: PaymentMethod; reference?: string; file?: StoredFileRef }
  | { kind: 'complaint'; borrowerId: string; ticket: string; category: ComplaintCategory; description: string; desiredOutcome: string; dueDate: string }
  | { kind: 'outcomesNotified'; ids: string[] }
  /** "退订" / "stop": no proactive messages to this conversation (and borrower, when verified) until they write again. */
  | { kind: 'contactPreference'; optedOut: true; conversationId: string; borrowerId?: string };

/** What an agent needs at a glance; the store adds the last messages. */
export interface HandoffSummary {
  verified: boolean;
  borrowerName?: string;
  amountDue?: string;
  hardship?: string;
  /** What the borrower asked for or tried before, oldest first. */
  tried: string[];
  agentsAvailable: boolean;
}

export interface RecordEmitted {
  type: 'record';
  record: TurnRecord;
}

export type Emitted = Reply | RecordEmitted;

export interface BorrowerRef {
  id: string;
  name: string;
  locale: 'zh-CN' | 'en';
}

export interface IdentityCheckInput extends Required<IdentityDetails> {
  conversationId: string;
  now: string;
}

export type IdentityCheckResult =
  /** `attemptKeys`: the phone and conversation keys an attempt is counted under. */
  | { outcome: 'verified'; borrower: BorrowerRef; attemptKeys: string[] }
  | { outcome: 'mismatch'; attemptsLeft: number; attemptKeys: string[]; lockUntil?: string; untilLocal?: string; lockMinutes: number }
  | { outcome: 'locked'; until: string; untilLocal: string };

export interface AccountLine {
  loanId: string;
  number: number;
  dueDate: string;
  days: number;
  amount: string;
}

export interface AccountSummary {
  today: string;
  overdue: AccountLine[];
  total: string;
  penalty: string;
  compound: string;
  lateFees: string;
  maxDaysOverdue: number;
  next?: { loanId: string; number: number; dueDate: string; amount: string };
  hasLoans: boolean;
  /** Review decisions and complaint resolutions not shown yet. */
  outcomes?: OutcomeView[];
  /** Confirmed arrangements with a payment still ahead. */
  agreements?: Array<{ reference: string; kind: OptionKind; nextDate: string; nextAmount: string }>;
}

export interface AccountInput {
  borrowerId: string;
  now: string;
}

export type PaymentMethod = 'bank_transfer' | 'alipay' | 'wechat_pay' | 'other';
export type ComplaintCategory = 'collection_conduct' | 'fees_and_penalties' | 'privacy' | 'repayment_processing' | 'service' | 'other';

/** The first attachment of a message, and the host of the channel it came through. */
export interface AttachmentRef {
  contentUrl?: string;
  contentType?: string;
  name?: string;
  channelHost?: string;
}

export interface StoredFileRef {
  sha256: string;
  fileType: string;
  size: number;
}

export interface ProofDraft {
  amount?: string;
  paidOn?: string;
  method?: PaymentMethod;
  reference?: string;
  file?: StoredFileRef;
  /** An attachment still to fetch. */
  attachment?: AttachmentRef;
}

export type AttachmentResult =
  | { status: 'stored'; file: StoredFileRef }
  | { status: 'duplicate'; receipt: string }
  | { status: 'refused'; reason: string };

export type ProofCheck = { status: 'new'; receipt: string } | { status: 'duplicate'; receipt: string };

export interface ComplaintDraft {
  category?: ComplaintCategory;
  description?: string;
  desiredOutcome?: string;
}

export interface ComplaintFiling {
  ticket: string;
  dueDate: string;
  severity: 'high' | 'normal';
}

export interface ComplaintStatusView {
  ticket: string;
  category: string;
  status: string;
  dueDate: string;
  resolution?: string;
}

/** A review decision or complaint resolution the borrower has not been shown yet. */
export type OutcomeView =
  | { kind: 'proof'; id: string; status: 'verified' | 'rejected'; reason?: string; amount: string; paidOn: string }
  | { kind: 'complaint'; id: string; resolution: string };

export type OptionKind = 'installments' | 'extension' | 'waiver' | 'promise';
export type HardshipReason = 'job_loss' | 'illness' | 'income_drop' | 'business_trouble' | 'other';

export interface BorrowerInput {
  borrowerId: string;
  now: string;
}

/** One overdue installment's arithmetic, formatted for the explanation (amounts "1,152.60", rates in %). */
export interface PenaltyLine {
  loanId: string;
  number: number;
  dueDate: string;
  days: number;
  principal: string;
  interest: string;
  annualRate: string;
  multiplier: string;
  cap: string;
  penaltyRate: string;
  capApplied: boolean;
  dayBasis: number;
  compoundOn: boolean;
  penalty: string;
  compound: string;
  lateFee: string;
  total: string;
}

export interface PenaltyExplanation {
  today: string;
  lines: PenaltyLine[];
  total: string;
  penalty: string;
  compound: string;
  lateFees: string;
  anyCapApplied: boolean;
  penaltyPlusCompound: string;
  /** How much the amount due grows each further day unpaid. */
  dailyGrowth: string;
  maxDays: number;
}

export interface OptionRefusal {
  code: 'nothingDue' | 'belowMinimum' | 'tooLongOverdue' | 'extensionUsedRecently';
  limit?: string;
}

export interface OptionsView {
  today: string;
  total: string;
  maxDays: number;
  beyondSelfService: boolean;
  selfServiceMaxDays: number;
  /** Every option, in the order to offer them (by the hardship reason given). */
  options: Array<{ kind: OptionKind; offered: boolean; reasons: OptionRefusal[] }>;
  installments: { counts: number[]; example?: { count: number; amount: string; firstDate: string } };
  extension: { maxDays: number; maxDate: string; amountAtMax: string };
  waiver: { waiver: string; payAmount: string; payBy: string; sharePercent: string };
  promise: { maxAmount: string; lastDate: string };
}

export interface OptionsInput extends BorrowerInput {
  hardship?: HardshipReason;
}

export interface PlanRequest {
  kind: OptionKind;
  count?: number;
  date?: string;
  amount?: string;
}

export interface PlanQuote {
  reference: string;
  kind: OptionKind;
  quotedAt: string;
  loanIds: string[];
  /** What is agreed: the plan total, the amount due on the new date, the settlement or the promise.
   *  Amounts in a quote are plain decimals ("1152.60"), as stored; replies format them. */
  amount: string;
  schedule: Array<{ number: number; dueDate: string; amount: string }>;
  count?: number;
  newDate?: string;
  waiver?: string;
  currentTotal: string;
  /** The borrower's active arrangements on the same loans: shown with the quote, and no longer
   *  active once it is confirmed (a borrower keeps one arrangement per debt, not a pile of them). */
  replaces?: string[];
}

export type PlanQuoteResult =
  | { status: 'quote'; quote: PlanQuote }
  | { status: 'needs'; field: 'count' | 'date' | 'amount'; counts?: number[]; lastDate?: string; maxAmount?: string }
  | { status: 'refused'; problem: 'countNotAllowed' | 'dateTooLate' | 'dateNotAfterToday' | 'amountTooSmall' | 'amountTooLarge'; limit: string }
  | { status: 'notOffered'; kind: OptionKind; reasons: OptionRefusal[] }
  | { status: 'beyondSelfService'; maxDays: number }
  | { status: 'promised'; reference: string; amount: string; date: string; maxAmount: string };

export interface PlanQuoteInput extends BorrowerInput {
  request: PlanRequest;
}
