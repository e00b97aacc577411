import Decimal from 'decimal.js';
import { DateTime } from 'luxon';

/**
 * One row of the portfolio CSV (CONTRACT.md section 3): the column names, their rules, and the
 * typed row a valid record becomes. Pure code: the importer (portfolioImport.ts) adds the header,
 * line numbers, cross-row and database checks.
 */
export const PORTFOLIO_COLUMNS = [
  'borrower_id',
  'name',
  'phone',
  'id_number',
  'date_of_birth',
  'locale',
  'loan_id',
  'product',
  'annual_rate',
  'installment_no',
  'due_date',
  'principal_due',
  'interest_due',
  'principal_paid',
  'interest_paid',
] as const;
export type PortfolioColumn = (typeof PORTFOLIO_COLUMNS)[number];

export const LOCALES = ['zh-CN', 'en'] as const;
export type PortfolioLocale = (typeof LOCALES)[number];

export const DEFAULT_PRODUCTS: ReadonlySet<string> = new Set(['standard']);

/** Largest amount accepted in any money column, in fen (10,000,000.00 yuan; fits a 32-bit Int). */
export const MAX_AMOUNT_FEN = 1_000_000_000;

export interface PortfolioRow {
  borrowerId: string;
  name: string;
  /** 11 digits, without +86 */
  phone: string;
  /** the full ID number, upper case; only ever stored as the digest of its last 4 */
  idNumber: string;
  /** upper-cased last 4 characters of the ID number */
  idLast4: string;
  /** YYYY-MM-DD */
  birthDate: string;
  locale: PortfolioLocale;
  loanId: string;
  product: string;
  /** normalized decimal text, e.g. "0.18" */
  annualRate: string;
  installmentNo: number;
  /** YYYY-MM-DD */
  dueDate: string;
  principalDueFen: number;
  interestDueFen: number;
  principalPaidFen: number;
  interestPaidFen: number;
}

export interface RowProblem {
  column: string;
  reason: string;
}

export interface RowOptions {
  /** product codes defined in the policy; default: just `standard` */
  products?: ReadonlySet<string>;
  /** today (YYYY-MM-DD, lender's time zone): dates of birth may not be later */
  today?: string;
}

export type RowResult = { ok: true; row: PortfolioRow } | { ok: false; problems: RowProblem[] };

/** The one shape every problem is reported in (the contract's wording). */
export function formatProblem(line: number, column: string, reason: string): string {
  return `line ${line}, column ${column}: ${reason}`;
}

// ---------------------------------------------------------------------------------------------
// Column checks. Each takes the trimmed cell text and yields the normalized value, or fails with
// the reason shown to a person. Values of identity columns (phone, ID number, date of birth) are
// never repeated in a reason, so error output cannot leak them. Plain functions rather than zod
// schemas: they run 15 times a row, a million rows an import, and zod's machinery per call cost
// more than the checks themselves.

const quote = (v: string) => JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);

/** U+FFFD means the decoder met bytes that are not UTF-8 (typically a GBK file saved by Excel). */
const NOT_UTF8 = 'contains characters that are not UTF-8 (save the file as "CSV UTF-8")';

/** Where a check records that it failed, and why (reused: one per validator). */
interface CellContext {
  failed: boolean;
  reason: string;
}

/** Records the reason; the value returned is never used (the caller looks at `ctx.failed`). */
function fail(ctx: CellContext, message: string): never {
  ctx.failed = true;
  ctx.reason = message;
  return undefined as never;
}

type Check<T> = (v: string, ctx: CellContext) => T;

/** A column: `check` gets the trimmed cell and normalizes it or fails with a reason. */
function cell<T>(check: Check<T>): Check<T> {
  return check;
}

const identifier = (max: number) =>
  cell((v, ctx) => {
    if (v === '') return fail(ctx, 'is empty');
    if (v.length > max) return fail(ctx, `is longer than ${max} characters`);
    if (v.includes('\uFFFD')) return fail(ctx, NOT_UTF8);
    return v;
  });

const personName = cell((v, ctx) => {
  if (v === '') return fail(ctx, 'is empty');
  if (v.length > 100) return fail(ctx, 'is longer than 100 characters');
  if (v.includes('\uFFFD')) return fail(ctx, NOT_UTF8);
  return v;
});

const MOBILE = /^1\d{10}$/;

const phone = cell((v, ctx) => {
  if (v === '') return fail(ctx, 'is empty');
  if (MOBILE.test(v)) return v;
  // "+86 138-0013-8000" and "13800138000" are the same number; keep the bare 11 digits.
  const digits = v.replace(/^\+86/, '').replace(/[\s-]/g, '');
  if (!MOBILE.test(digits)) return fail(ctx, 'is not a mainland mobile number (11 digits starting with 1, "+86" allowed in front)');
  return digits;
});

// Format only: the contract's own example ID numbers do not all carry a valid GB 11643 checksum.
const idNumber = cell((v, ctx) => {
  if (v === '') return fail(ctx, 'is empty');
  if (!/^\d{17}[\dXx]$/.test(v)) return fail(ctx, 'is not an 18-character resident ID number (17 digits, then a digit or X)');
  return v.toUpperCase();
});

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Real calendar dates already seen: a portfolio repeats few distinct dates, and luxon's parse is the slow part. */
const realDates = new Set<string>();

function isRealDate(v: string): boolean {
  if (realDates.has(v)) return true;
  if (!DateTime.fromISO(v, { zone: 'utc' }).isValid) return false;
  if (realDates.size >= 100_000) realDates.clear(); // bounded
  realDates.add(v);
  return true;
}

/** A real calendar date written YYYY-MM-DD; `secret` dates are described without their value. */
function calendarDate(secret: boolean) {
  return cell((v, ctx) => {
    if (ISO_DATE.test(v) && isRealDate(v) && v >= '1900-01-01' && v <= '2199-12-31') return v;
    if (v === '') return fail(ctx, 'is empty');
    const shown = secret ? '' : `${quote(v)} `;
    if (!ISO_DATE.test(v)) return fail(ctx, `${shown}is not a date in the form YYYY-MM-DD`);
    if (!isRealDate(v)) return fail(ctx, `${shown}is not a real calendar date (YYYY-MM-DD)`);
    return fail(ctx, `${shown}is outside the years 1900 to 2199`);
  });
}

const locale = cell((v, ctx): PortfolioLocale => {
  if (v === '') return fail(ctx, 'is empty (zh-CN or en)');
  const found = LOCALES.find((l) => l === v);
  return found ?? fail(ctx, `${quote(v)} is not a supported locale (zh-CN or en)`);
});

const PLAIN_DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;

/** Valid rates already seen → normalized text (a portfolio has few distinct rates). */
const knownRates = new Map<string, string>();

const annualRate = cell((v, ctx) => {
  const known = knownRates.get(v);
  if (known !== undefined) return known;
  if (v === '') return fail(ctx, 'is empty');
  if (!PLAIN_DECIMAL.test(v)) return fail(ctx, `${quote(v)} is not a decimal fraction (e.g. 0.18 for 18%)`);
  const rate = new Decimal(v);
  if (rate.isNegative() && !rate.isZero()) return fail(ctx, `${quote(v)} is negative`);
  if (rate.gt(1)) return fail(ctx, `${quote(v)} is more than 1: write the rate as a fraction (e.g. 0.18 for 18%)`);
  if (rate.decimalPlaces() > 8) return fail(ctx, `${quote(v)} has more than 8 decimal places`);
  // decimal.js drops trailing zeros and never uses exponent notation in toFixed(): "0.180" → "0.18"
  const normalized = rate.abs().toFixed();
  if (knownRates.size >= 10_000) knownRates.clear(); // bounded
  knownRates.set(v, normalized);
  return normalized;
});

const installmentNo = cell((v, ctx) => {
  if (v === '') return fail(ctx, 'is empty');
  if (!/^\d+$/.test(v)) return fail(ctx, `${quote(v)} is not a whole number ≥ 1`);
  const n = Number(v);
  if (n < 1) return fail(ctx, `${quote(v)} is not a whole number ≥ 1`);
  if (n > 9999) return fail(ctx, `${quote(v)} is more than 9999`);
  return n;
});

/** "950", "950.5", "950.50": whole yuan of at most 8 digits and at most 2 decimals. */
const USUAL_AMOUNT = /^(\d{1,8})(?:\.(\d{1,2}))?$/;

/**
 * Money → integer fen, exactly. The usual spelling is converted from its digits with integer
 * arithmetic (whole × 100 + cents, far below 2^53: no binary fraction is ever involved); anything
 * else goes through decimal.js, which also words the reasons.
 */
const amount = cell((v, ctx) => {
  const usual = USUAL_AMOUNT.exec(v);
  if (usual) {
    const fen = Number(usual[1]) * 100 + Number((usual[2] ?? '').padEnd(2, '0'));
    if (fen <= MAX_AMOUNT_FEN) return fen;
  }
  if (v === '') return fail(ctx, 'is empty (write 0 for nothing)');
  if (!PLAIN_DECIMAL.test(v)) return fail(ctx, `${quote(v)} is not an amount (e.g. 950.00)`);
  const yuan = new Decimal(v);
  if (yuan.isNegative() && !yuan.isZero()) return fail(ctx, `${quote(v)} is negative`);
  if (yuan.decimalPlaces() > 2) return fail(ctx, `${quote(v)} has more than 2 decimal places`);
  const fen = yuan.abs().times(100);
  if (fen.gt(MAX_AMOUNT_FEN)) return fail(ctx, `${quote(v)} is more than 10,000,000.00`);
  return fen.toNumber();
});

function productCheck(products: ReadonlySet<string>) {
  const known = [...products].slice(0, 10).join(', ');
  return cell((v, ctx) => {
    if (v === '') return fail(ctx, `is empty (${known})`);
    if (!products.has(v)) return fail(ctx, `${quote(v)} is not a product defined in the policy (${known})`);
    return v;
  });
}

function columnChecks(products: ReadonlySet<string>) {
  return {
    borrower_id: identifier(64),
    name: personName,
    phone,
    id_number: idNumber,
    date_of_birth: calendarDate(true),
    locale,
    loan_id: identifier(64),
    product: productCheck(products),
    annual_rate: annualRate,
    installment_no: installmentNo,
    due_date: calendarDate(false),
    principal_due: amount,
    interest_due: amount,
    principal_paid: amount,
    interest_paid: amount,
  } satisfies Record<PortfolioColumn, Check<unknown>>;
}

type Parsed = { [C in PortfolioColumn]: ReturnType<ReturnType<typeof columnChecks>[C]> };

/** A row validator: cells by column name → the row or every problem; `fields` is the importer's fast path. */
export interface RowValidator {
  (cells: Partial<Record<PortfolioColumn, string>>): RowResult;
  /**
   * The row when the record is entirely valid, else undefined (then ask with cells for the
   * problems). `positions[i]` is the field holding PORTFOLIO_COLUMNS[i]; allocates only the row.
   */
  fields(fields: readonly string[], positions: readonly number[]): PortfolioRow | undefined;
}

/**
 * A reusable validator: builds the checks once (per import), then checks rows. Cells missing
 * from `cells` (a column absent from the header) are skipped: the header error already says so.
 */
export function portfolioRowValidator(options: RowOptions = {}): RowValidator {
  const checks = columnChecks(options.products ?? DEFAULT_PRODUCTS);
  const today = options.today ?? DateTime.now().toISODate();
  const ctx: CellContext = { failed: false, reason: '' };

  function crossColumn(parsed: Partial<Parsed>, problems: RowProblem[]): void {
    const dob = parsed.date_of_birth;
    if (dob !== undefined && dob > today) problems.push({ column: 'date_of_birth', reason: 'is in the future' });
    // Paid may not exceed due; reported on the paid column, with both (non-secret) amounts.
    for (const [paid, due] of PAID_DUE) {
      const p = parsed[paid];
      const d = parsed[due];
      if (p !== undefined && d !== undefined && p > d) {
        problems.push({ column: paid, reason: `${yuanText(p)} is more than ${due} (${yuanText(d)})` });
      }
    }
  }

  const validate = (cells: Partial<Record<PortfolioColumn, string>>): RowResult => {
    const problems: RowProblem[] = [];
    const parsed: Partial<Parsed> = {};
    let complete = true;
    for (const column of PORTFOLIO_COLUMNS) {
      const raw = cells[column];
      if (raw === undefined) {
        complete = false; // a column absent from the header: the header's problem
        continue;
      }
      ctx.failed = false;
      const value = checks[column](raw.trim(), ctx);
      if (ctx.failed) problems.push({ column, reason: ctx.reason });
      else (parsed as Record<string, unknown>)[column] = value;
    }
    crossColumn(parsed, problems);
    if (problems.length === 0 && complete) return { ok: true, row: toRow(parsed as Parsed) };
    return { ok: false, problems: problems.sort((a, b) => columnOrder(a.column) - columnOrder(b.column)) };
  };

  // Column by column in PORTFOLIO_COLUMNS order, straight into the row.
  const fields = (f: readonly string[], at: readonly number[]): PortfolioRow | undefined => {
    const get = (i: number): string => {
      const v = f[at[i]!];
      if (v === undefined) ctx.failed = true;
      return v === undefined ? '' : v.trim();
    };
    ctx.failed = false;
    const borrowerId = checks.borrower_id(get(0), ctx);
    const name = checks.name(get(1), ctx);
    const phone = checks.phone(get(2), ctx);
    const idNumber = checks.id_number(get(3), ctx);
    const birthDate = checks.date_of_birth(get(4), ctx);
    const locale = checks.locale(get(5), ctx);
    const loanId = checks.loan_id(get(6), ctx);
    const product = checks.product(get(7), ctx);
    const annualRate = checks.annual_rate(get(8), ctx);
    const installmentNo = checks.installment_no(get(9), ctx);
    const dueDate = checks.due_date(get(10), ctx);
    const principalDueFen = checks.principal_due(get(11), ctx);
    const interestDueFen = checks.interest_due(get(12), ctx);
    const principalPaidFen = checks.principal_paid(get(13), ctx);
    const interestPaidFen = checks.interest_paid(get(14), ctx);
    if (ctx.failed || birthDate > today || principalPaidFen > principalDueFen || interestPaidFen > interestDueFen) return undefined;
    return {
      borrowerId,
      name,
      phone,
      idNumber,
      idLast4: idNumber.slice(-4),
      birthDate,
      locale,
      loanId,
      product,
      annualRate,
      installmentNo,
      dueDate,
      principalDueFen,
      interestDueFen,
      principalPaidFen,
      interestPaidFen,
    };
  };

  return Object.assign(validate, { fields });
}

const PAID_DUE = [
  ['principal_paid', 'principal_due'],
  ['interest_paid', 'interest_due'],
] as const;

function toRow(p: Parsed): PortfolioRow {
  return {
    borrowerId: p.borrower_id,
    name: p.name,
    phone: p.phone,
    idNumber: p.id_number,
    idLast4: p.id_number.slice(-4),
    birthDate: p.date_of_birth,
    locale: p.locale,
    loanId: p.loan_id,
    product: p.product,
    annualRate: p.annual_rate,
    installmentNo: p.installment_no,
    dueDate: p.due_date,
    principalDueFen: p.principal_due,
    interestDueFen: p.interest_due,
    principalPaidFen: p.principal_paid,
    interestPaidFen: p.interest_paid,
  };
}

/** One-off convenience over portfolioRowValidator (tests, small callers). */
export function validatePortfolioRow(cells: Partial<Record<PortfolioColumn, string>>, options: RowOptions = {}): RowResult {
  return portfolioRowValidator(options)(cells);
}

/** Integer fen → "950.00" (exact: integer division, no floating point). */
export function yuanText(fen: number): string {
  return new Decimal(fen).dividedBy(100).toFixed(2);
}

function columnOrder(column: string): number {
  const i = (PORTFOLIO_COLUMNS as readonly string[]).indexOf(column);
  return i < 0 ? PORTFOLIO_COLUMNS.length : i;
}
