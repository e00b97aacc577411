/**
 * A large, valid portfolio CSV (CONTRACT.md section 3), written as a stream: `rows` installments,
 * 8 a loan, one loan a borrower, a mix of paid, partly paid, overdue and future installments
 * around 2026-11-22. Phones start with 139 so they never meet the demo borrowers' (138…).
 *
 *   node bench/portfolioCsv.mjs out.csv 1000000
 */
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';

const COLUMNS = 'borrower_id,name,phone,id_number,date_of_birth,locale,loan_id,product,annual_rate,installment_no,due_date,principal_due,interest_due,principal_paid,interest_paid';
const PER_LOAN = 8;
/** Due dates: the 22nd of May 2026 … Dec 2026 (the first six are past on 2026-11-22). */
const DUE = ['2026-04-22', '2026-05-22', '2026-06-22', '2026-07-22', '2026-08-22', '2026-09-22', '2026-10-22', '2026-12-22', '2027-01-22'];
const RATES = ['0.18', '0.24', '0.15', '0.12'];

const pad = (n, w) => String(n).padStart(w, '0');

function borrowerFields(b) {
  const year = 1960 + (b % 45);
  const month = 1 + (b % 12);
  const day = 1 + (b % 28);
  const dob = `${year}-${pad(month, 2)}-${pad(day, 2)}`;
  const id = `110101${year}${pad(month, 2)}${pad(day, 2)}${pad(b % 1000, 3)}${b % 11 === 10 ? 'X' : b % 10}`;
  const zh = b % 3 !== 0;
  return [`P${b}`, zh ? `借款人${b}` : `Borrower ${b}`, `139${pad(b, 8)}`, id, dob, zh ? 'zh-CN' : 'en'];
}

function installmentFields(b, i) {
  const principal = 500 + (b % 50) * 10; // yuan
  const interest = 80 + (b % 7) * 5;
  const late = (b % 4) + 1; // how many installments before the last past one are left unpaid
  const due = DUE[(b % 2) + i - 1];
  const past = due < '2026-11-22';
  const paidInFull = past && i <= 6 - late;
  const partly = past && i === 7 - late && b % 5 === 0;
  const pp = paidInFull ? principal : partly ? Math.floor(principal / 2) : 0;
  const ip = paidInFull ? interest : partly ? interest : 0;
  return [`PL${b}`, 'standard', RATES[b % RATES.length], String(i), due, `${principal}.00`, `${interest}.00`, `${pp}.00`, `${ip}.00`];
}

/** Writes the file; resolves { rows, borrowers, bytes, ms }. */
export async function writePortfolioCsv(file, rows) {
  const t0 = performance.now();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const out = fs.createWriteStream(file, { highWaterMark: 1 << 20 });
  out.write(`${COLUMNS}\n`);
  let chunk = [];
  let b = 0;
  for (let n = 0; n < rows; n++) {
    const i = (n % PER_LOAN) + 1;
    if (i === 1) b++;
    chunk.push([...borrowerFields(b), ...installmentFields(b, i)].join(','));
    if (chunk.length === 5000) {
      if (!out.write(`${chunk.join('\n')}\n`)) await once(out, 'drain');
      chunk = [];
    }
  }
  if (chunk.length) out.write(`${chunk.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  return { rows, borrowers: b, bytes: fs.statSync(file).size, ms: Math.round(performance.now() - t0) };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const [file, n] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/portfolioCsv.mjs out.csv [rows]');
    process.exit(2);
  }
  console.log(JSON.stringify(await writePortfolioCsv(file, Number(n ?? 1_000_000))));
}
