import fs from 'node:fs';
import { Readable } from 'node:stream';
import { raw as sqlRaw, sqltag as sql } from '@prisma/client/runtime/client';
import { providerOf, type Db, type Provider } from '../db/client';
import type { Prisma } from '../db/generated/sqlite/client';
import { identityDigest } from '../db/identityDigest';
import {
  formatProblem,
  PORTFOLIO_COLUMNS,
  type PortfolioColumn,
  type PortfolioRow,
  portfolioRowValidator,
  type RowValidator,
} from './portfolioRow';

/**
 * Portfolio import (CONTRACT.md section 3), in ONE streaming pass over the file, inside ONE
 * transaction: every row is checked (on its own, against the rows before it, and its new keys
 * against the database) and, while nothing is wrong, upserted in batches: borrowers by
 * borrower_id, loans by loan_id, installments by (loan_id, installment_no). Nothing else
 * (conversations, plans, ...) is touched.
 *
 * At the first problem the transaction is rolled back at once, and the rest of the file is only
 * checked (no transaction open), so every problem is still listed and nothing is written. The
 * import keeps one small entry per borrower, phone and loan (never the rows), so a
 * 1,000,000-row file needs memory for its keys only.
 */

export interface ImportOptions {
  identitySecret: string;
  /** product codes defined in the policy; default: just `standard` */
  products?: ReadonlySet<string>;
  /** today (YYYY-MM-DD, lender's time zone), for "date of birth in the future"; default: the system's */
  today?: string;
  /** how many problem lines to return (all are counted); default 1000 */
  maxErrors?: number;
}

export type ImportCounts = { rows: number; borrowers: number; loans: number; installments: number; created: number; updated: number };

export type ImportResult =
  | { ok: true; summary: string; counts: ImportCounts }
  | { ok: false; errors: string[]; errorCount: number };

/** The file cannot be read at all (missing, a directory, no permission): not a problem of a line. */
export class PortfolioFileError extends Error {}

export async function importPortfolioFile(db: Db, filePath: string, options: ImportOptions): Promise<ImportResult> {
  await assertReadableFile(filePath);
  return importPortfolio(db, () => fs.createReadStream(filePath, { highWaterMark: 1 << 20 }), options);
}

/** Throws a PortfolioFileError saying why `filePath` cannot be imported at all. */
export async function assertReadableFile(filePath: string): Promise<void> {
  try {
    const stat = await fs.promises.stat(filePath);
    if (!stat.isFile()) throw new PortfolioFileError(`${filePath} is not a file`);
    await fs.promises.access(filePath, fs.constants.R_OK);
  } catch (e) {
    if (e instanceof PortfolioFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new PortfolioFileError(`Cannot read ${filePath}: ${why}`);
  }
}

/** The same code path as a file, for text already in memory (the demo seed, tests). */
export async function importPortfolioText(db: Db, csv: string, options: ImportOptions): Promise<ImportResult> {
  return importPortfolio(db, () => Readable.from([csv]), options);
}

// ---------------------------------------------------------------------------------------------
// Reading: RFC 4180 CSV as a stream, each record with its first physical line (header = line 1).
// A reader of our own rather than csv-parse: it was a third of a 1,000,000-row import's time. It
// splits the bytes at line feeds (never part of a multi-byte UTF-8 character), decodes each line
// (a byte that is not UTF-8 becomes U+FFFD, which the row checks report), and splits a line
// without a quote at its commas; only lines with a quote go through the full parser, joined with
// the next lines while a quoted field spans them. Blank lines are skipped; CRLF and LF both end a
// line; a BOM is dropped. The first malformed record ends the reading (after broken quoting no one
// can tell where later records start).

const HEADER = new Set<string>(PORTFOLIO_COLUMNS);
/** A valid row is a few hundred characters. */
const MAX_RECORD_CHARS = 100_000;

interface BrokenCsv {
  code: 'CSV_QUOTE_NOT_CLOSED' | 'CSV_INVALID_CLOSING_QUOTE' | 'CSV_INVALID_OPENING_QUOTE' | 'CSV_MAX_RECORD_SIZE';
  message: string;
  /** 0-based field where the parser gave up */
  field: number;
}
type CsvRecord = { line: number; fields: string[] } | { line: number; broken: BrokenCsv };

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * One record's fields from its text (its lines joined by their line breaks, without the last
 * one); 'more' when a quoted field is still open at the end and `eof` is false.
 */
function parseRecord(s: string, eof: boolean): string[] | 'more' | Omit<BrokenCsv, 'message'> {
  const fields: string[] = [];
  const n = s.length;
  let i = 0;
  for (;;) {
    if (s.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = s.indexOf('"', from);
        if (q < 0) return eof ? { code: 'CSV_QUOTE_NOT_CLOSED', field: fields.length } : 'more';
        value += s.slice(from, q);
        if (s.charCodeAt(q + 1) === QUOTE) {
          value += '"';
          from = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      if (i < n && s.charCodeAt(i) !== COMMA) return { code: 'CSV_INVALID_CLOSING_QUOTE', field: fields.length };
      fields.push(value);
      if (i >= n) return fields;
      i++;
    } else {
      let j = s.indexOf(',', i);
      if (j < 0) j = n;
      const value = s.slice(i, j);
      if (value.includes('"')) return { code: 'CSV_INVALID_OPENING_QUOTE', field: fields.length };
      fields.push(value);
      if (j >= n) return fields;
      i = j + 1;
    }
  }
}

const MESSAGES: Record<BrokenCsv['code'], string> = {
  CSV_QUOTE_NOT_CLOSED: 'quoted field not closed',
  CSV_INVALID_CLOSING_QUOTE: 'invalid closing quote',
  CSV_INVALID_OPENING_QUOTE: 'invalid opening quote',
  CSV_MAX_RECORD_SIZE: 'record too long',
};

function brokenAt(line: number, b: Omit<BrokenCsv, 'message'>): { line: number; broken: BrokenCsv } {
  return { line, broken: { ...b, message: MESSAGES[b.code] } };
}

/** The field a record longer than allowed had reached: where an open quote began, else by commas. */
function tooLong(text: string): Omit<BrokenCsv, 'message'> {
  const parsed = parseRecord(text, true);
  const field = Array.isArray(parsed) ? parsed.length - 1 : parsed === 'more' ? 0 : parsed.field;
  return { code: 'CSV_MAX_RECORD_SIZE', field };
}

/** Yields the records of each chunk read (one await per chunk, not per record). */
async function* readCsv(open: () => Readable): AsyncGenerator<CsvRecord[]> {
  const source = open();
  let rest: Buffer | undefined; // bytes after the last line feed
  let line = 0; // physical lines read so far
  let start = true;
  // A record with a quoted field still open: its text so far, first line, and how its last line ended.
  let open_: { text: string; line: number; crlf: boolean } | undefined;
  let stopped = false;

  /** One physical line (without its line break); returns false once the reading must stop. */
  const take = (text: string, crlf: boolean, eof: boolean, out: CsvRecord[]): boolean => {
    line++;
    let record = text;
    let first = line;
    if (open_) {
      record = `${open_.text}${open_.crlf ? '\r\n' : '\n'}${text}`;
      first = open_.line;
      open_ = undefined;
    } else if (text === '') {
      return true; // a blank line
    } else if (!text.includes('"')) {
      if (text.length > MAX_RECORD_CHARS) {
        out.push(brokenAt(first, tooLong(text)));
        return false;
      }
      out.push({ line: first, fields: text.split(',') });
      return true;
    }
    const parsed = parseRecord(record, eof);
    if (parsed === 'more') {
      if (record.length > MAX_RECORD_CHARS) {
        out.push(brokenAt(first, tooLong(record)));
        return false;
      }
      open_ = { text: record, line: first, crlf };
      return true;
    }
    if (!Array.isArray(parsed)) {
      out.push(brokenAt(first, parsed));
      return false;
    }
    if (record.length > MAX_RECORD_CHARS) {
      out.push(brokenAt(first, tooLong(record)));
      return false;
    }
    out.push({ line: first, fields: parsed });
    return true;
  };

  try {
    for await (const chunk of source as AsyncIterable<Buffer | string>) {
      let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      if (rest?.length) buf = Buffer.concat([rest, buf]);
      let pos = 0;
      if (start && buf.length >= 3) {
        start = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) pos = 3; // BOM
      }
      const out: CsvRecord[] = [];
      for (;;) {
        const lf = buf.indexOf(LF, pos);
        if (lf < 0) break;
        const crlf = lf > pos && buf[lf - 1] === CR;
        if (!take(buf.toString('utf8', pos, crlf ? lf - 1 : lf), crlf, false, out)) {
          stopped = true;
          break;
        }
        pos = lf + 1;
      }
      if (!stopped) {
        rest = buf.subarray(pos);
        // A line this long without a line feed is no record: stop before holding the file in memory.
        if (rest.length > MAX_RECORD_CHARS * 4) {
          out.push(brokenAt(open_?.line ?? line + 1, tooLong(`${open_ ? `${open_.text}\n` : ''}${rest.toString('utf8')}`)));
          stopped = true;
        }
      }
      if (out.length) yield out;
      if (stopped) return;
    }
    const out: CsvRecord[] = [];
    if (rest?.length) {
      // The last line, without a line feed (a file of under 3 bytes may still hold a BOM).
      if (start && rest[0] === 0xef && rest[1] === 0xbb && rest[2] === 0xbf) rest = rest.subarray(3);
      const end = rest[rest.length - 1] === CR ? rest.length - 1 : rest.length;
      take(rest.toString('utf8', 0, end), false, true, out);
    } else if (open_) {
      // The file ended inside a quoted field.
      const parsed = parseRecord(open_.text, true);
      out.push(brokenAt(open_.line, Array.isArray(parsed) || parsed === 'more' ? { code: 'CSV_QUOTE_NOT_CLOSED', field: 0 } : parsed));
    }
    if (out.length) yield out;
  } finally {
    source.destroy();
  }
}

/** Header → which field holds each column; every problem is on the header's line. */
function readHeader(fields: string[], line: number, report: (line: number, column: string, reason: string) => void): Map<PortfolioColumn, number> {
  const index = new Map<PortfolioColumn, number>();
  const expected = PORTFOLIO_COLUMNS.join(', ');
  fields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase();
    if (name === '') report(line, `(field ${i + 1})`, 'empty column name');
    else if (!HEADER.has(name)) report(line, JSON.stringify(raw.trim()).slice(1, -1), `unknown column (expected: ${expected})`);
    else if (index.has(name as PortfolioColumn)) report(line, name, `appears more than once (fields ${index.get(name as PortfolioColumn)! + 1} and ${i + 1})`);
    else index.set(name as PortfolioColumn, i);
  });
  for (const column of PORTFOLIO_COLUMNS) if (!index.has(column)) report(line, column, 'missing from the header');
  return index;
}

/** Where each known column sits in a row, as arrays: the per-row loop allocates nothing for it. */
interface Layout {
  columns: PortfolioColumn[];
  positions: number[];
  /** fields in the header */
  width: number;
}

function layoutOf(index: Map<PortfolioColumn, number>, width: number): Layout {
  return { columns: [...index.keys()], positions: [...index.values()], width };
}

/** Row fields → cells by column name, reporting a short or long row. */
function cellsOf(
  fields: string[],
  line: number,
  layout: Layout,
  report: (line: number, column: string, reason: string) => void,
): Partial<Record<PortfolioColumn, string>> {
  const cells: Partial<Record<PortfolioColumn, string>> = {};
  const { columns, positions, width } = layout;
  for (let k = 0; k < columns.length; k++) {
    const v = fields[positions[k]!];
    if (v === undefined) report(line, columns[k]!, `missing (the row has ${fields.length} fields, the header ${width})`);
    else cells[columns[k]!] = v;
  }
  if (fields.length > width) report(line, `(field ${width + 1})`, `extra field (the header has ${width} columns)`);
  return cells;
}

// ---------------------------------------------------------------------------------------------
// Problems: all counted, the first `max` kept, returned in line order.

class Problems {
  count = 0;
  readonly #kept: { line: number; order: number; text: string }[] = [];
  constructor(private readonly max: number) {}
  add = (line: number, column: string, reason: string): void => {
    this.count++;
    if (this.#kept.length < this.max) {
      const order = (PORTFOLIO_COLUMNS as readonly string[]).indexOf(column);
      this.#kept.push({ line, order, text: formatProblem(line, column, reason) });
    }
  };
  list(): string[] {
    return this.#kept.sort((a, b) => a.line - b.line || a.order - b.order).map((p) => p.text);
  }
}

// ---------------------------------------------------------------------------------------------
// Checks across rows and against the database. Per key only what those checks need.

/** identity columns: a mismatch is described without either value */
const SECRET = new Set<string>(['phone', 'id_number', 'date_of_birth']);

interface BorrowerSeen {
  line: number;
  name: string;
  phone: string;
  idNumber: string;
  birthDate: string;
  locale: string;
}
interface LoanSeen {
  line: number;
  borrowerId: string;
  product: string;
  annualRate: string;
  /** the first installment's number and line; `more` from the second on (most loans have several) */
  firstNo: number;
  firstLine: number;
  more?: Map<number, number>;
}

type Report = (line: number, column: string, reason: string) => void;

/**
 * Rows per batch: written together, and their new keys checked against the database together.
 * Each statement binds the batch as one JSON parameter (see writeBatch).
 */
const BATCH_ROWS = 5000;


/** `IN (…)` over keys bound as one JSON array (no bound-parameter limit, one parameter a statement). */
function keyList(provider: Provider, keys: string[]) {
  const json = JSON.stringify(keys);
  return provider === 'sqlite' ? sql`SELECT "value" FROM json_each(${json})` : sql`SELECT json_array_elements_text(${json}::json)`;
}

/**
 * One import's reading and checking state. `run` reads records until the file ends or, when
 * writing, until the first problem (the caller then rolls back and calls `run` again, not
 * writing, for the rest of the file).
 */
class Scan {
  readonly problems: Problems;
  readonly report: Report;
  readonly #check: RowValidator;
  readonly #provider: Provider;
  readonly #secret: string;
  #layout: Layout | undefined;
  /** the header names all 15 columns, once each: rows take the validator's fast path */
  #positions: number[] | undefined;
  #done = false;
  #unreadable = false;
  rows = 0;

  readonly #borrowers = new Map<string, BorrowerSeen>();
  readonly #phones = new Map<string, string>(); // phone → borrower_id
  readonly #loans = new Map<string, LoanSeen>();
  /** phones the database gave before this import to borrowers it has since written with another phone */
  readonly #vacated = new Map<string, string>(); // phone → borrower_id

  // The current batch: its valid rows, and the keys first seen in it (to check in the database).
  #batch: PortfolioRow[] = [];
  #newBorrowers: PortfolioRow[] = [];
  #newLoans: PortfolioRow[] = [];
  #newPhones: string[] = [];
  /** the batch being written, if any, and the first write that failed */
  #writing: Promise<void> | undefined;
  #writeError: unknown;

  constructor(db: Db, options: ImportOptions) {
    this.problems = new Problems(options.maxErrors ?? 1000);
    this.report = this.problems.add;
    this.#check = portfolioRowValidator({ products: options.products, today: options.today });
    this.#provider = providerOf(db);
    this.#secret = options.identitySecret;
  }

  get borrowers(): number {
    return this.#borrowers.size;
  }
  get loans(): number {
    return this.#loans.size;
  }

  /** Returns true when the file was read to its end without a problem. */
  async run(records: AsyncIterator<CsvRecord[]>, client: Db | Tx, written: Written | null): Promise<boolean> {
    try {
      return await this.#read(records, client, written);
    } finally {
      await this.#settle(written);
    }
  }

  async #read(records: AsyncIterator<CsvRecord[]>, client: Db | Tx, written: Written | null): Promise<boolean> {
    const report = this.report;
    const stop = () => written !== null && this.problems.count > 0;
    while (!this.#done && !stop()) {
      const next = await records.next();
      if (next.done) {
        this.#done = true;
        if (!this.#layout && !this.#unreadable) report(1, '(header)', `the file is empty: expected a header row with ${PORTFOLIO_COLUMNS.join(', ')}`);
        break;
      }
      for (const rec of next.value) {
        if ('broken' in rec) {
          // After broken quoting the parser cannot tell where later records start: stop there.
          const column = this.#layout?.columns[this.#layout.positions.indexOf(rec.broken.field)] ?? `(field ${rec.broken.field + 1})`;
          report(rec.line, column, `${csvReason(rec.broken)}; lines after it were not checked`);
          this.#unreadable = true;
          this.#done = true;
          break;
        }
        if (!this.#layout) {
          const index = readHeader(rec.fields, rec.line, report);
          this.#layout = layoutOf(index, rec.fields.length);
          if (index.size === PORTFOLIO_COLUMNS.length) this.#positions = PORTFOLIO_COLUMNS.map((c) => index.get(c)!);
          continue;
        }
        this.#row(rec.fields, rec.line);
        if (this.#batch.length >= BATCH_ROWS) {
          await this.#flush(client, written);
          if (stop()) return false;
        }
      }
    }
    if (stop()) return false;
    await this.#flush(client, written);
    return this.problems.count === 0;
  }

  #row(fields: string[], line: number): void {
    this.rows++;
    const layout = this.#layout!;
    let row: PortfolioRow | undefined;
    if (this.#positions && fields.length === layout.width) row = this.#check.fields(fields, this.#positions);
    if (!row) {
      const result = this.#check(cellsOf(fields, line, layout, this.report));
      if (!result.ok) {
        for (const p of result.problems) this.report(line, p.column, p.reason);
        return;
      }
      row = result.row;
    }
    this.#crossCheck(row, line);
    this.#batch.push(row);
  }

  #crossCheck(row: PortfolioRow, line: number): void {
    const report = this.report;
    const borrower = this.#borrowers.get(row.borrowerId);
    if (!borrower) {
      this.#borrowers.set(row.borrowerId, { line, name: row.name, phone: row.phone, idNumber: row.idNumber, birthDate: row.birthDate, locale: row.locale });
      this.#newBorrowers.push(row);
      const owner = this.#phones.get(row.phone);
      if (owner === undefined) {
        this.#phones.set(row.phone, row.borrowerId);
        this.#newPhones.push(row.phone);
      } else {
        report(line, 'phone', `the same phone number is given for borrower ${owner} (line ${this.#borrowers.get(owner)?.line})`);
      }
    } else if (
      borrower.name !== row.name ||
      borrower.phone !== row.phone ||
      borrower.idNumber !== row.idNumber ||
      borrower.birthDate !== row.birthDate ||
      borrower.locale !== row.locale
    ) {
      const pairs: [string, string, string][] = [
        ['name', borrower.name, row.name],
        ['phone', borrower.phone, row.phone],
        ['id_number', borrower.idNumber, row.idNumber],
        ['date_of_birth', borrower.birthDate, row.birthDate],
        ['locale', borrower.locale, row.locale],
      ];
      for (const [column, before, now] of pairs) {
        if (before === now) continue;
        report(
          line,
          column,
          SECRET.has(column)
            ? `differs from the ${column} given for borrower ${row.borrowerId} on line ${borrower.line}`
            : `${JSON.stringify(now)} differs from ${JSON.stringify(before)} given for borrower ${row.borrowerId} on line ${borrower.line}`,
        );
      }
    }

    const loan = this.#loans.get(row.loanId);
    if (!loan) {
      this.#loans.set(row.loanId, {
        line,
        borrowerId: row.borrowerId,
        product: row.product,
        annualRate: row.annualRate,
        firstNo: row.installmentNo,
        firstLine: line,
      });
      this.#newLoans.push(row);
      return;
    }
    if (loan.borrowerId !== row.borrowerId) {
      report(line, 'borrower_id', `loan ${row.loanId} belongs to borrower ${loan.borrowerId} on line ${loan.line}`);
    }
    if (loan.product !== row.product) {
      report(line, 'product', `"${row.product}" differs from "${loan.product}" given for loan ${row.loanId} on line ${loan.line}`);
    }
    if (loan.annualRate !== row.annualRate) {
      report(line, 'annual_rate', `${row.annualRate} differs from ${loan.annualRate} given for loan ${row.loanId} on line ${loan.line}`);
    }
    const earlier = row.installmentNo === loan.firstNo ? loan.firstLine : loan.more?.get(row.installmentNo);
    if (earlier !== undefined) {
      report(line, 'installment_no', `installment ${row.installmentNo} of loan ${row.loanId} is already on line ${earlier}`);
    } else {
      (loan.more ??= new Map()).set(row.installmentNo, line);
    }
  }

  /** The batch's new keys against the database, then (writing, nothing wrong so far) the batch itself. */
  async #flush(client: Db | Tx, written: Written | null): Promise<void> {
    const writing = written !== null && this.problems.count === 0;
    await this.#checkAgainstDatabase(client, writing);
    if (written !== null && this.problems.count === 0 && this.#batch.length) {
      // One write in flight at a time, not awaited here: while the database (PostgreSQL: another
      // process) executes it, the next batch is read and checked. Queries of one transaction
      // run in order on its connection, so the next batch's lookups still come after this write.
      await this.#settle(written);
      this.#writing = writeBatch(client, this.#provider, this.#secret, written.now, this.#newBorrowers, this.#newLoans, this.#batch).then(
        (touched) => {
          written.touched += touched;
        },
        (e: unknown) => {
          this.#writeError ??= e;
        },
      );
    }
    this.#batch = [];
    this.#newBorrowers = [];
    this.#newLoans = [];
    this.#newPhones = [];
  }

  /** Waits for the write in flight; rethrows its failure. */
  async #settle(written: Written | null): Promise<void> {
    if (this.#writing) await this.#writing;
    this.#writing = undefined;
    if (written !== null && this.#writeError !== undefined) throw this.#writeError;
  }

  /**
   * A loan_id or a phone the database already gives to another borrower. Only keys first seen in
   * this batch are looked up: the database then still holds their state from before the import
   * (earlier batches wrote only keys seen earlier). One exception is kept in `#vacated`: a
   * borrower written earlier whose phone changed no longer shows the old phone in the database.
   */
  async #checkAgainstDatabase(client: Db | Tx, willWrite: boolean): Promise<void> {
    const report = this.report;
    if (this.#newLoans.length) {
      const ids = this.#newLoans.map((r) => r.loanId);
      const found = await client.$queryRaw<{ id: string; borrowerId: string }[]>(
        sql`SELECT "id", "borrowerId" FROM "Loan" WHERE "id" IN (${keyList(this.#provider, ids)})`,
      );
      for (const stored of found) {
        const loan = this.#loans.get(stored.id)!;
        if (stored.borrowerId !== loan.borrowerId) {
          report(loan.line, 'loan_id', `loan ${stored.id} already belongs to borrower ${stored.borrowerId} in the database`);
        }
      }
    }
    if (this.#newPhones.length) {
      const owners = new Map<string, string>(); // phone → borrower id in the database before the import
      const found = await client.$queryRaw<{ id: string; phone: string }[]>(
        sql`SELECT "id", "phone" FROM "Borrower" WHERE "phone" IN (${keyList(this.#provider, this.#newPhones)})`,
      );
      for (const stored of found) owners.set(stored.phone, stored.id);
      if (this.#vacated.size) for (const phone of this.#newPhones) if (this.#vacated.has(phone)) owners.set(phone, this.#vacated.get(phone)!);
      for (const [phone, storedId] of owners) {
        const borrowerId = this.#phones.get(phone)!;
        if (storedId !== borrowerId) {
          const line = this.#borrowers.get(borrowerId)?.line ?? 1;
          report(line, 'phone', `this phone number already belongs to borrower ${storedId} in the database`);
        }
      }
    }
    if (willWrite && this.problems.count === 0 && this.#newBorrowers.length) {
      const ids = this.#newBorrowers.map((r) => r.borrowerId);
      const stored = await client.$queryRaw<{ id: string; phone: string }[]>(
        sql`SELECT "id", "phone" FROM "Borrower" WHERE "id" IN (${keyList(this.#provider, ids)})`,
      );
      for (const b of stored) if (b.phone !== this.#borrowers.get(b.id)?.phone) this.#vacated.set(b.phone, b.id);
    }
  }
}

function csvReason(err: BrokenCsv): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is never closed (a " is missing)';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'text after a closing quote (inside a quoted field write "" for ")';
    case 'CSV_MAX_RECORD_SIZE':
      return `the record is longer than ${MAX_RECORD_CHARS.toLocaleString('en')} characters (an unclosed quote?)`;
    case 'CSV_INVALID_OPENING_QUOTE':
      return 'a quote inside an unquoted field (quote the whole field and double the quote: "a""b")';
    default:
      return `the line is not valid CSV (${err.message})`;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing, in batches, inside the one transaction.

type Tx = Prisma.TransactionClient;

interface Written {
  now: Date;
  /** rows inserted or changed by the upserts (unchanged rows are skipped by their WHERE) */
  touched: number;
  /** rows the three tables gained */
  created: number;
}

const TABLES = ['Borrower', 'Loan', 'Installment'] as const;

async function countRows(tx: Tx): Promise<number> {
  let total = 0;
  for (const table of TABLES) {
    // Table names are constants, never input.
    const [row] = await tx.$queryRawUnsafe<{ n: number | bigint }[]>(`SELECT COUNT(*) AS "n" FROM "${table}"`);
    total += Number(row?.n ?? 0);
  }
  return total;
}

/**
 * INSERT ... SELECT over the batch bound as ONE JSON parameter, ON CONFLICT DO UPDATE (Prisma has
 * no bulk upsert; a VALUES list binds 7 parameters a row, and Prisma's work per bound parameter
 * cost several times SQLite's own work per row). The DO UPDATE's WHERE skips rows whose values
 * are unchanged, so re-importing the same file rewrites nothing and `updatedAt` moves only when
 * something changed. Timestamps stay ordinary parameters, so they are stored as Prisma stores
 * them. Returns how many rows were inserted or changed.
 */
async function writeBatch(
  tx: Db | Tx,
  provider: Provider,
  secret: string,
  now: Date,
  newBorrowers: PortfolioRow[],
  newLoans: PortfolioRow[],
  batch: PortfolioRow[],
): Promise<number> {
  let touched = 0;
  const pg = provider === 'postgresql';
  // SQLite: json_each rows, `value ->> n` the n-th element (INTEGER for JSON integers).
  // PostgreSQL: json_array_elements rows, `v ->> n` as text, cast where the column is not text.
  const rowsOf = (json: string) => (pg ? sql`json_array_elements(${json}::json) AS "v"` : sql`json_each(${json}) AS "j"`);
  const at = (n: number, type?: 'int') => sqlRaw(pg ? (type === 'int' ? `("v"->>${n})::int` : `"v"->>${n}`) : `"j"."value"->>${n}`);

  // Borrowers first (loans refer to them), each once per import.
  if (newBorrowers.length) {
    const json = JSON.stringify(
      newBorrowers.map((r) => [r.borrowerId, r.name, r.phone, identityDigest(secret, 'idLast4', r.idLast4), identityDigest(secret, 'birthDate', r.birthDate), r.locale]),
    );
    touched += await tx.$executeRaw(sql`
      INSERT INTO "Borrower" ("id", "name", "phone", "idLast4Digest", "birthDateDigest", "locale", "createdAt", "updatedAt")
      SELECT ${at(0)}, ${at(1)}, ${at(2)}, ${at(3)}, ${at(4)}, ${at(5)}, ${now}, ${now} FROM ${rowsOf(json)} WHERE true
      ON CONFLICT ("id") DO UPDATE SET
        "name" = excluded."name", "phone" = excluded."phone", "idLast4Digest" = excluded."idLast4Digest",
        "birthDateDigest" = excluded."birthDateDigest", "locale" = excluded."locale", "updatedAt" = excluded."updatedAt"
      WHERE "Borrower"."name" <> excluded."name" OR "Borrower"."phone" <> excluded."phone"
        OR "Borrower"."idLast4Digest" <> excluded."idLast4Digest" OR "Borrower"."birthDateDigest" <> excluded."birthDateDigest"
        OR "Borrower"."locale" <> excluded."locale"`);
  }

  if (newLoans.length) {
    const json = JSON.stringify(newLoans.map((r) => [r.loanId, r.borrowerId, r.product, r.annualRate]));
    // borrowerId is never changed: validation refused a loan that belongs to another borrower.
    touched += await tx.$executeRaw(sql`
      INSERT INTO "Loan" ("id", "borrowerId", "product", "annualRate", "createdAt", "updatedAt")
      SELECT ${at(0)}, ${at(1)}, ${at(2)}, ${at(3)}, ${now}, ${now} FROM ${rowsOf(json)} WHERE true
      ON CONFLICT ("id") DO UPDATE SET
        "product" = excluded."product", "annualRate" = excluded."annualRate", "updatedAt" = excluded."updatedAt"
      WHERE "Loan"."product" <> excluded."product" OR "Loan"."annualRate" <> excluded."annualRate"`);
  }

  const json = JSON.stringify(
    batch.map((r) => [r.loanId, r.installmentNo, r.dueDate, r.principalDueFen, r.interestDueFen, r.principalPaidFen, r.interestPaidFen]),
  );
  touched += await tx.$executeRaw(sql`
    INSERT INTO "Installment" ("loanId", "number", "dueDate", "principalDueFen", "interestDueFen", "principalPaidFen", "interestPaidFen")
    SELECT ${at(0)}, ${at(1, 'int')}, ${at(2)}, ${at(3, 'int')}, ${at(4, 'int')}, ${at(5, 'int')}, ${at(6, 'int')} FROM ${rowsOf(json)} WHERE true
    ON CONFLICT ("loanId", "number") DO UPDATE SET
      "dueDate" = excluded."dueDate", "principalDueFen" = excluded."principalDueFen", "interestDueFen" = excluded."interestDueFen",
      "principalPaidFen" = excluded."principalPaidFen", "interestPaidFen" = excluded."interestPaidFen"
    WHERE "Installment"."dueDate" <> excluded."dueDate" OR "Installment"."principalDueFen" <> excluded."principalDueFen"
      OR "Installment"."interestDueFen" <> excluded."interestDueFen" OR "Installment"."principalPaidFen" <> excluded."principalPaidFen"
      OR "Installment"."interestPaidFen" <> excluded."interestPaidFen"`);
  return touched;
}

// ---------------------------------------------------------------------------------------------

/** Thrown inside the transaction to roll it back once the file has a problem. */
class RollBack extends Error {}

async function importPortfolio(db: Db, open: () => Readable, options: ImportOptions): Promise<ImportResult> {
  const scan = new Scan(db, options);
  const records = readCsv(open);
  try {
    let written: Written | undefined;
    try {
      written = await db.$transaction(
        async (tx) => {
          // Created = what the tables gained (no one else adds borrowers, loans or installments);
          // updated = touched − created. So no row has to be read before it is written.
          const before = await countRows(tx);
          const w: Written = { now: new Date(), touched: 0, created: 0 };
          if (!(await scan.run(records, tx, w))) throw new RollBack();
          w.created = (await countRows(tx)) - before;
          const details = { rows: scan.rows, borrowers: scan.borrowers, loans: scan.loans, touched: w.touched, created: w.created };
          await tx.auditLog.create({ data: { at: w.now, actor: 'import', action: 'portfolio.imported', details: JSON.stringify(details) } });
          return w;
        },
        // One transaction for the whole file: give it the time a large file needs.
        { maxWait: 60_000, timeout: 60 * 60_000 },
      );
    } catch (e) {
      if (!(e instanceof RollBack)) throw e;
    }
    if (!written) {
      // Rolled back at the first problem: the rest of the file is checked without writing.
      await scan.run(records, db, null);
      return { ok: false, errors: scan.problems.list(), errorCount: scan.problems.count };
    }
    const { rows, borrowers, loans } = scan;
    const updated = written.touched - written.created;
    const counts: ImportCounts = { rows, borrowers, loans, installments: rows, created: written.created, updated };
    const unchanged = borrowers + loans + rows - written.created - updated;
    const summary =
      `Imported ${plural(rows, 'row')}: ${plural(borrowers, 'borrower')}, ${plural(loans, 'loan')}, ` +
      `${plural(rows, 'installment')}; ${written.created} created, ${updated} updated, ${unchanged} unchanged.`;
    return { ok: true, summary, counts };
  } finally {
    await records.return?.(undefined);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
