import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Database, type DatabaseKind, openDatabase, sqliteFilePath } from '../../db/client';
import { identityDigest } from '../../db/identityDigest';
import { migrateDatabase } from '../../db/migrator';
import { demoBorrowers, demoPortfolioCsv, seedDemoPortfolio } from '../../portfolio/demoPortfolio';
import { importPortfolioFile, importPortfolioText, type ImportOptions, PortfolioFileError } from '../../portfolio/portfolioImport';
import { PORTFOLIO_COLUMNS, type PortfolioColumn } from '../../portfolio/portfolioRow';
import { freshDatabaseUrl } from '../support/databases';
import { ensureBuilt } from '../support/serverProcess';

const SECRET = 'test-identity-secret';
const TODAY = '2026-11-22';
const OPTIONS: ImportOptions = { identitySecret: SECRET, today: TODAY };
const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = fs.readFileSync(path.join(ROOT, '../shared/tools/example.csv'), 'utf8');

type Row = Record<PortfolioColumn, string>;

function row(patch: Partial<Row> = {}): Row {
  return {
    borrower_id: 'B1',
    name: '张伟',
    phone: '13800138000',
    id_number: '110101199001011234',
    date_of_birth: '1990-01-01',
    locale: 'zh-CN',
    loan_id: 'L1',
    product: 'standard',
    annual_rate: '0.18',
    installment_no: '1',
    due_date: '2026-10-23',
    principal_due: '950.00',
    interest_due: '180.00',
    principal_paid: '0',
    interest_paid: '0',
    ...patch,
  };
}

/** RFC 4180 text: fields with a comma, quote or line break are quoted. */
function csv(rows: Row[], columns: readonly string[] = PORTFOLIO_COLUMNS): string {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return [columns.join(','), ...rows.map((r) => columns.map((c) => field(r[c as PortfolioColumn] ?? '')).join(','))].join('\n') + '\n';
}

/** Two borrowers, two loans, three installments. */
const BASE: Row[] = [
  row(),
  row({ installment_no: '2', due_date: '2026-11-23', interest_due: '170.00' }),
  row({
    borrower_id: 'B2',
    name: 'Emily Chen',
    phone: '+86 13800138002',
    id_number: '11010119850505448x',
    date_of_birth: '1985-05-05',
    locale: 'en',
    loan_id: 'L2',
    annual_rate: '0.24',
  }),
];

async function tableCounts(db: Database) {
  const p = db.prisma;
  return {
    borrowers: await p.borrower.count(),
    loans: await p.loan.count(),
    installments: await p.installment.count(),
    conversations: await p.conversation.count(),
  };
}

const kinds: DatabaseKind[] = ['sqlite', 'postgres'];

describe.each(kinds)('portfolio import on %s', (kind) => {
  let fresh: { url: string; drop(): Promise<void> };
  let db: Database;

  beforeEach(async () => {
    fresh = await freshDatabaseUrl(kind);
    await migrateDatabase(fresh.url);
    db = await openDatabase(fresh.url);
  });
  afterEach(async () => {
    await db.close();
    await fresh.drop();
  });

  it('imports a valid file: money in fen, phone normalized, identity as digests', async () => {
    const result = await importPortfolioText(db.prisma, csv(BASE), OPTIONS);
    expect(result).toEqual({
      ok: true,
      summary: 'Imported 3 rows: 2 borrowers, 2 loans, 3 installments; 7 created, 0 updated, 0 unchanged.',
      counts: { rows: 3, borrowers: 2, loans: 2, installments: 3, created: 7, updated: 0 },
    });
    const emily = await db.prisma.borrower.findUniqueOrThrow({ where: { id: 'B2' } });
    expect(emily).toMatchObject({
      name: 'Emily Chen',
      phone: '13800138002',
      locale: 'en',
      idLast4Digest: identityDigest(SECRET, 'idLast4', '448X'),
      birthDateDigest: identityDigest(SECRET, 'birthDate', '1985-05-05'),
    });
    expect(await db.prisma.loan.findUniqueOrThrow({ where: { id: 'L2' } })).toMatchObject({ borrowerId: 'B2', product: 'standard', annualRate: '0.24' });
    expect(await db.prisma.installment.findMany({ where: { loanId: 'L1' }, orderBy: { number: 'asc' } })).toEqual([
      { loanId: 'L1', number: 1, dueDate: '2026-10-23', principalDueFen: 95000, interestDueFen: 18000, principalPaidFen: 0, interestPaidFen: 0 },
      { loanId: 'L1', number: 2, dueDate: '2026-11-23', principalDueFen: 95000, interestDueFen: 17000, principalPaidFen: 0, interestPaidFen: 0 },
    ]);
  });

  it('imports the contract example file', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'portfolio-')), 'example.csv');
    fs.writeFileSync(file, EXAMPLE);
    const result = await importPortfolioFile(db.prisma, file, OPTIONS);
    expect(result.ok && result.counts).toEqual({ rows: 3, borrowers: 2, loans: 2, installments: 3, created: 7, updated: 0 });
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('re-imports by key: updated values, no duplicates, conversations kept', async () => {
    expect((await importPortfolioText(db.prisma, csv(BASE), OPTIONS)).ok).toBe(true);
    await db.prisma.conversation.create({
      data: { id: 'webchat:c1', channelId: 'webchat', locale: 'zh-CN', reference: '{}', snapshot: '{}', flowVersion: '1', borrowerId: 'B1', lastActivityAt: new Date() },
    });
    const before = await db.prisma.borrower.findUniqueOrThrow({ where: { id: 'B2' } });

    const changed = [
      row({ principal_paid: '500.00' }), // installment changed
      BASE[1]!, // unchanged
      { ...BASE[2]!, name: 'Emily Chen-Wang' }, // borrower changed, installment unchanged
      row({ installment_no: '3', due_date: '2026-12-23', interest_due: '160.00' }), // new installment
    ];
    const result = await importPortfolioText(db.prisma, csv(changed), OPTIONS);
    expect(result).toEqual({
      ok: true,
      summary: 'Imported 4 rows: 2 borrowers, 2 loans, 4 installments; 1 created, 2 updated, 5 unchanged.',
      counts: { rows: 4, borrowers: 2, loans: 2, installments: 4, created: 1, updated: 2 },
    });
    expect(await tableCounts(db)).toEqual({ borrowers: 2, loans: 2, installments: 4, conversations: 1 });
    expect(await db.prisma.installment.findUniqueOrThrow({ where: { loanId_number: { loanId: 'L1', number: 1 } } })).toMatchObject({ principalPaidFen: 50000 });
    const after = await db.prisma.borrower.findUniqueOrThrow({ where: { id: 'B2' } });
    expect(after.name).toBe('Emily Chen-Wang');
    expect(after.createdAt).toEqual(before.createdAt);
    expect(after.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
    const unchanged = await db.prisma.borrower.findUniqueOrThrow({ where: { id: 'B1' } });
    expect(await db.prisma.conversation.findUnique({ where: { id: 'webchat:c1' } })).toMatchObject({ borrowerId: 'B1' });

    // The same file again changes nothing, not even updatedAt.
    const again = await importPortfolioText(db.prisma, csv(changed), OPTIONS);
    expect(again.ok && again.summary).toBe('Imported 4 rows: 2 borrowers, 2 loans, 4 installments; 0 created, 0 updated, 8 unchanged.');
    expect((await db.prisma.borrower.findUniqueOrThrow({ where: { id: 'B1' } })).updatedAt).toEqual(unchanged.updatedAt);
  });

  it('refuses an invalid file, listing every bad line and column, and writes nothing', async () => {
    expect((await importPortfolioText(db.prisma, csv(BASE), OPTIONS)).ok).toBe(true);
    const counts = await tableCounts(db);
    const bad = [
      row({ principal_paid: '1' }), // line 2: a valid change, not written either
      row({ installment_no: '2', due_date: '2026-11-31' }), // line 3
      row({ installment_no: '3', due_date: '2026-12-23', phone: '12345', principal_due: '1.234' }), // line 4
      BASE[2]!, // line 5: fine
      row({ borrower_id: 'B3', loan_id: 'L3', phone: '13800138003', locale: 'fr', product: 'gold', annual_rate: '18' }), // line 6
      row({ borrower_id: 'B3', loan_id: 'L3', phone: '13800138003', installment_no: 'x', interest_paid: '200', date_of_birth: '2030-01-01' }), // line 7
    ];
    const result = await importPortfolioText(db.prisma, csv(bad), OPTIONS);
    expect(result).toEqual({
      ok: false,
      errorCount: 9,
      errors: [
        'line 3, column due_date: "2026-11-31" is not a real calendar date (YYYY-MM-DD)',
        'line 4, column phone: is not a mainland mobile number (11 digits starting with 1, "+86" allowed in front)',
        'line 4, column principal_due: "1.234" has more than 2 decimal places',
        'line 6, column locale: "fr" is not a supported locale (zh-CN or en)',
        'line 6, column product: "gold" is not a product defined in the policy (standard)',
        'line 6, column annual_rate: "18" is more than 1: write the rate as a fraction (e.g. 0.18 for 18%)',
        'line 7, column date_of_birth: is in the future',
        'line 7, column installment_no: "x" is not a whole number ≥ 1',
        'line 7, column interest_paid: 200.00 is more than interest_due (180.00)',
      ],
    });
    expect(await tableCounts(db)).toEqual(counts);
    expect(await db.prisma.installment.findUniqueOrThrow({ where: { loanId_number: { loanId: 'L1', number: 1 } } })).toMatchObject({ principalPaidFen: 0 });
  });

  it('checks rows against each other and against the database', async () => {
    expect((await importPortfolioText(db.prisma, csv(BASE), OPTIONS)).ok).toBe(true);
    const rows = [
      row({ installment_no: '5' }), // line 2
      row({ installment_no: '6', name: '张 伟', id_number: '110101199001019999' }), // line 3: borrower B1 differs
      row({ installment_no: '5' }), // line 4: duplicate installment
      row({ borrower_id: 'B9', loan_id: 'L9', phone: '13800138000' }), // line 5: B1's phone
      row({ borrower_id: 'B9', loan_id: 'L1', phone: '13800138000', installment_no: '7', annual_rate: '0.2' }), // line 6: L1 is B1's
      row({ borrower_id: 'B8', loan_id: 'L2', phone: '13800138002' }), // line 7: L2 and the phone are B2's in the database
    ];
    const result = await importPortfolioText(db.prisma, csv(rows), OPTIONS);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'line 3, column name: "张 伟" differs from "张伟" given for borrower B1 on line 2',
      'line 3, column id_number: differs from the id_number given for borrower B1 on line 2',
      'line 4, column installment_no: installment 5 of loan L1 is already on line 2',
      'line 5, column phone: the same phone number is given for borrower B1 (line 2)',
      'line 6, column borrower_id: loan L1 belongs to borrower B1 on line 2',
      'line 6, column annual_rate: 0.2 differs from 0.18 given for loan L1 on line 2',
      'line 7, column phone: this phone number already belongs to borrower B2 in the database',
      'line 7, column loan_id: loan L2 already belongs to borrower B2 in the database',
    ]);
    expect(result.errors.join('\n')).not.toMatch(/110101199001019999|13800138000/);
  });

  it('reports header problems on line 1', async () => {
    const columns: string[] = [...PORTFOLIO_COLUMNS.filter((c) => c !== 'interest_paid'), 'phone', 'email'];
    const result = await importPortfolioText(db.prisma, csv([row()], columns), OPTIONS);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual(
      expect.arrayContaining([
        'line 1, column phone: appears more than once (fields 3 and 15)',
        expect.stringMatching(/^line 1, column email: unknown column \(expected: borrower_id, name, .*interest_paid\)$/),
        'line 1, column interest_paid: missing from the header',
      ]),
    );
    expect(result.errorCount).toBe(result.errors.length);
    expect(await importPortfolioText(db.prisma, '', OPTIONS)).toEqual({
      ok: false,
      errorCount: 1,
      errors: [expect.stringMatching(/^line 1, column \(header\): the file is empty/)],
    });
  });

  it('accepts a BOM, CRLF, quoted fields with commas and quotes, and columns in any order', async () => {
    const columns = [...PORTFOLIO_COLUMNS].reverse();
    const name = 'Chen, Emily "Em"';
    const rows = [row({ name }), row({ name, installment_no: '2', due_date: '2026-11-23' })];
    const text = '\uFEFF' + csv(rows, columns).replaceAll('\n', '\r\n');
    const result = await importPortfolioText(db.prisma, text, OPTIONS);
    expect(result.ok && result.counts).toMatchObject({ rows: 2, borrowers: 1, installments: 2 });
    expect((await db.prisma.borrower.findUniqueOrThrow({ where: { id: 'B1' } })).name).toBe(name);
  });

  it('counts physical lines: a quoted line break, blank lines, a short row, broken quoting', async () => {
    const text = [
      PORTFOLIO_COLUMNS.join(','),
      csv([row({ name: 'Emily\nChen' })]).split('\n').slice(1, 3).join('\n'), // lines 2-3
      '',
      csv([row({ installment_no: '2', due_date: '2026-02-30' })]).split('\n')[1], // line 5
      'B1,张伟,13800138000', // line 6
      csv([row({ installment_no: '3' })]).split('\n')[1]!.replace('standard', 'stand"ard"x'), // line 7
    ].join('\n');
    const result = await importPortfolioText(db.prisma, text, OPTIONS);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]).toBe('line 5, column due_date: "2026-02-30" is not a real calendar date (YYYY-MM-DD)');
    expect(result.errors[1]).toBe('line 6, column id_number: missing (the row has 3 fields, the header 15)');
    expect(result.errors.filter((e) => e.startsWith('line 6,'))).toHaveLength(12);
    expect(result.errors.at(-1)).toMatch(/^line 7, column product: .*lines after it were not checked$/);
  });

  it('points at the line where an unclosed quote starts', async () => {
    const lines = csv([row(), row({ installment_no: '2' }), row({ installment_no: '3' })]).split('\n');
    lines[2] = lines[2]!.replace('张伟', '"张伟');
    const filler = Array.from({ length: 2000 }, (_, i) => csv([row({ installment_no: String(i + 4) })]).split('\n')[1]);
    const result = await importPortfolioText(db.prisma, [...lines.slice(0, 4), ...filler].join('\n'), OPTIONS);
    expect(result).toEqual({
      ok: false,
      errorCount: 1,
      errors: [expect.stringMatching(/^line 3, column \S+: .*lines after it were not checked$/)],
    });
  });

  it('lists the first problems and counts them all', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => row({ installment_no: String(i + 1), due_date: '2026-02-31' }));
    const result = await importPortfolioText(db.prisma, csv(rows), { ...OPTIONS, maxErrors: 10 });
    expect(result).toMatchObject({ ok: false, errorCount: 30 });
    expect(!result.ok && result.errors).toHaveLength(10);
    expect(!result.ok && result.errors[9]).toMatch(/^line 11, column due_date/);
  });

  it('writes in batches: a loan whose rows are far apart, thousands of rows', async () => {
    const rows: Row[] = [];
    for (let b = 0; b < 1500; b++) {
      const phone = `139${String(b).padStart(8, '0')}`;
      for (let n = 1; n <= 3; n++) rows.push(row({ borrower_id: `B${b}`, loan_id: `L${b}`, phone, installment_no: String(n) }));
    }
    rows.push(row({ borrower_id: 'B0', loan_id: 'L0', phone: '13900000000', installment_no: '4' })); // after batch 2
    const result = await importPortfolioText(db.prisma, csv(rows), OPTIONS);
    expect(result.ok && result.counts).toEqual({ rows: 4501, borrowers: 1500, loans: 1500, installments: 4501, created: 7501, updated: 0 });
    expect(await db.prisma.installment.count({ where: { loanId: 'L0' } })).toBe(4);
  });

  it('never stores the ID number or the date of birth in clear', async () => {
    expect((await importPortfolioText(db.prisma, csv(BASE), OPTIONS)).ok).toBe(true);
    const secrets = ['110101199001011234', '11010119850505448', '1990-01-01', '1985-05-05', '19900101'];
    const rows = JSON.stringify([
      await db.prisma.borrower.findMany(),
      await db.prisma.loan.findMany(),
      await db.prisma.installment.findMany(),
      await db.prisma.auditLog.findMany(),
    ]);
    for (const s of secrets) expect(rows).not.toContain(s);
    if (kind === 'sqlite') {
      await db.close();
      const file = sqliteFilePath(fresh.url);
      const bytes = Buffer.concat([file, `${file}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
      for (const s of secrets) expect(bytes.includes(Buffer.from(s))).toBe(false);
      expect(bytes.includes(Buffer.from('Emily Chen'))).toBe(true); // the search does see text
      db = await openDatabase(fresh.url);
    }
  });

  it('seeds the demo portfolio once, into an empty database only', async () => {
    const first = await seedDemoPortfolio(db, { today: TODAY, identitySecret: SECRET });
    expect(first.seeded).toBe(true);
    expect(first.summary).toMatch(/^Imported \d+ rows: 10 borrowers/);
    expect(await seedDemoPortfolio(db, { today: TODAY, identitySecret: SECRET })).toEqual({ seeded: false });
    expect(await db.prisma.borrower.count()).toBe(demoBorrowers.length);
    const d01 = await db.prisma.borrower.findUniqueOrThrow({ where: { id: 'D01' }, include: { loans: { include: { installments: { orderBy: { number: 'asc' } } } } } });
    expect(d01).toMatchObject({ name: '张伟', phone: '13800138001', locale: 'zh-CN', birthDateDigest: identityDigest(SECRET, 'birthDate', '1990-01-01') });
    expect(d01.loans[0]?.installments.map((i) => [i.dueDate, i.principalDueFen, i.interestDueFen, i.principalPaidFen + i.interestPaidFen])).toEqual([
      ['2026-10-23', 95000, 18000, 0],
      ['2026-11-23', 95000, 17000, 0],
    ]);
  });

  it('says when a file is not UTF-8 (a GBK file saved by Excel)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portfolio-'));
    const file = path.join(dir, 'gbk.csv');
    const [header, line] = csv([row({ name: 'NAME' })]).split('\n');
    const [before, after] = line!.split('NAME');
    // 张伟 in GBK
    fs.writeFileSync(file, Buffer.concat([Buffer.from(`${header}\n${before}`), Buffer.from([0xd5, 0xc5, 0xce, 0xb0]), Buffer.from(`${after}\n`)]));
    const result = await importPortfolioFile(db.prisma, file, OPTIONS);
    expect(result).toEqual({ ok: false, errorCount: 1, errors: ['line 2, column name: contains characters that are not UTF-8 (save the file as "CSV UTF-8")'] });
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses a file it cannot read', async () => {
    await expect(importPortfolioFile(db.prisma, '/nonexistent/portfolio.csv', OPTIONS)).rejects.toThrow(PortfolioFileError);
    await expect(importPortfolioFile(db.prisma, os.tmpdir(), OPTIONS)).rejects.toThrow(/is not a file/);
  });
});

describe('demo portfolio', () => {
  it('has the contract borrowers and stories in both locales', () => {
    expect(demoBorrowers.length).toBeGreaterThanOrEqual(8);
    expect(demoBorrowers[0]).toMatchObject({ borrowerId: 'D01', name: '张伟', phone: '13800138001', idLast4: '1234', birthDate: '1990-01-01', locale: 'zh-CN' });
    expect(demoBorrowers[1]).toMatchObject({ borrowerId: 'D02', name: 'Emily Chen', phone: '13800138002', idLast4: '448X', birthDate: '1985-05-05', locale: 'en' });
    expect(new Set(demoBorrowers.map((b) => b.locale))).toEqual(new Set(['zh-CN', 'en']));
    for (const key of ['phone', 'idLast4', 'birthDate'] as const) expect(new Set(demoBorrowers.map((b) => b[key])).size).toBe(demoBorrowers.length);
    for (const b of demoBorrowers) expect(b.story).toMatch(/\S/);
  });

  it('dates its installments from today', () => {
    const text = demoPortfolioCsv('2027-03-01');
    expect(text).toContain('D01,张伟,13800138001,110101199001011234,1990-01-01,zh-CN,DL01,standard,0.18,1,2027-01-30,950.00,180.00,0.00,0.00');
    expect(text).toContain('D02,Emily Chen,13800138002,11010119850505448X,1985-05-05,en,DL02,standard,0.18,2,2027-03-02,950.00,170.00,0.00,0.00');
  });
});

describe('npm run import (the CLI)', () => {
  let fresh: { url: string; drop(): Promise<void> };
  let dir: string;
  beforeAll(async () => {
    // The shared, locked build: one of its own here rewrote the server's bundle while other test
    // files' servers were reading it (a start failed on half a bundle).
    await ensureBuilt();
    fresh = await freshDatabaseUrl('sqlite');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portfolio-cli-'));
  }, 180_000);
  afterAll(async () => {
    await fresh.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (file: string) => {
    const r = spawnSync(process.execPath, ['dist/scripts/importPortfolio.js', file], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: fresh.url, APP_NOW: '2026-11-22T10:00:00+08:00' },
      encoding: 'utf8',
    });
    return { code: r.status, out: r.stdout + r.stderr };
  };

  it('migrates, imports and prints a summary; the contract bad file exits 1 with line 3, column due_date', () => {
    const good = path.join(dir, 'example.csv');
    fs.writeFileSync(good, EXAMPLE);
    const ok = run(good);
    expect(ok).toEqual({ code: 0, out: 'Imported 3 rows: 2 borrowers, 2 loans, 3 installments; 7 created, 0 updated, 0 unchanged.\n' });

    const lines = EXAMPLE.trim().split('\n');
    lines[2] = lines[2]!.replace('2026-11-23', '2026-11-31');
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, lines.join('\n') + '\n');
    const refused = run(bad);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/line 3, column due_date/i);
    expect(refused.out).toContain('1 problem in');

    const missing = run(path.join(dir, 'missing.csv'));
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/Cannot read .*missing\.csv: no such file/);
  });
});
