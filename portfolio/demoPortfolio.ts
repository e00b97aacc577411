import { DateTime } from 'luxon';
import type { Database } from '../db/client';
import { importPortfolioText } from './portfolioImport';
import { PORTFOLIO_COLUMNS, type PortfolioLocale } from './portfolioRow';

/**
 * The demo portfolio seeded into an empty database (`SEED_DEMO`), with due dates relative to
 * "today" so every situation the bot handles is there whatever day it runs. D01 and D02 are the
 * contract's worked example (CONTRACT.md section 5): each owes exactly 1,152.60 now.
 */

interface DemoInstallment {
  /** days from today: negative = overdue */
  due: number;
  principal: string;
  interest: string;
  principalPaid?: string;
  interestPaid?: string;
}

interface DemoLoan {
  loanId: string;
  annualRate: string;
  installments: DemoInstallment[];
}

interface DemoBorrower {
  borrowerId: string;
  name: string;
  phone: string;
  idNumber: string;
  birthDate: string;
  locale: PortfolioLocale;
  story: string;
  loans: DemoLoan[];
}

/** Installments n..m of a monthly loan: same amounts, due every 30 days from `firstDue`. */
function monthly(firstDue: number, count: number, principal: string, interest: string): DemoInstallment[] {
  return Array.from({ length: count }, (_, i) => ({ due: firstDue + 30 * i, principal, interest }));
}

/** The worked example's loan shape: 950.00 + 180.00 due 30 days ago, 950.00 + 170.00 due tomorrow. */
function workedExample(loanId: string): DemoLoan {
  return {
    loanId,
    annualRate: '0.18',
    installments: [
      { due: -30, principal: '950.00', interest: '180.00' },
      { due: 1, principal: '950.00', interest: '170.00' },
    ],
  };
}

/** Mainland ID numbers with a valid GB 11643 check character, so they look real in the demo. */
function residentId(region: string, birthDate: string, sequence: string): string {
  const body = `${region}${birthDate.replaceAll('-', '')}${sequence}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, d, i) => s + Number(d) * (weights[i] ?? 0), 0);
  return body + '10X98765432'.charAt(sum % 11);
}

const BORROWERS: readonly DemoBorrower[] = [
  {
    borrowerId: 'D01',
    name: '张伟',
    phone: '13800138001',
    idNumber: '110101199001011234',
    birthDate: '1990-01-01',
    locale: 'zh-CN',
    story: '1 installment overdue 30 days (the worked example: 1,152.60 due now), next due tomorrow',
    loans: [workedExample('DL01')],
  },
  {
    borrowerId: 'D02',
    name: 'Emily Chen',
    phone: '13800138002',
    idNumber: '11010119850505448X',
    birthDate: '1985-05-05',
    locale: 'en',
    story: '1 installment overdue 30 days (the worked example in English: 1,152.60 due now), next due tomorrow',
    loans: [workedExample('DL02')],
  },
  {
    borrowerId: 'D03',
    name: '李娜',
    phone: '13800138003',
    idNumber: residentId('310104', '1992-03-15', '026'),
    birthDate: '1992-03-15',
    locale: 'zh-CN',
    story: '1 installment overdue 5 days, earlier one paid, 2 not yet due',
    loans: [
      {
        loanId: 'DL03',
        annualRate: '0.20',
        installments: [
          { due: -35, principal: '800.00', interest: '120.00', principalPaid: '800.00', interestPaid: '120.00' },
          ...monthly(-5, 3, '800.00', '110.00'),
        ],
      },
    ],
  },
  {
    borrowerId: 'D04',
    name: 'James Wilson',
    phone: '13800138004',
    idNumber: residentId('440305', '1988-07-21', '051'),
    birthDate: '1988-07-21',
    locale: 'en',
    story: '3 installments overdue, 65 days; 3 not yet due',
    loans: [{ loanId: 'DL04', annualRate: '0.22', installments: monthly(-65, 6, '1500.00', '275.00') }],
  },
  {
    borrowerId: 'D05',
    name: '王芳',
    phone: '13800138005',
    idNumber: residentId('510107', '1979-11-02', '084'),
    birthDate: '1979-11-02',
    locale: 'zh-CN',
    story: '4 installments overdue, 120 days (over 90: no extension or waiver)',
    loans: [{ loanId: 'DL05', annualRate: '0.24', installments: monthly(-120, 4, '2000.00', '400.00') }],
  },
  {
    borrowerId: 'D06',
    name: 'Sarah Johnson',
    phone: '13800138006',
    idNumber: residentId('320102', '1983-09-09', '128'),
    birthDate: '1983-09-09',
    locale: 'en',
    story: '4 installments overdue, 200 days (over 180: handed to a human agent)',
    loans: [{ loanId: 'DL06', annualRate: '0.24', installments: monthly(-200, 4, '1200.00', '240.00') }],
  },
  {
    borrowerId: 'D07',
    name: '刘洋',
    phone: '13800138007',
    idNumber: residentId('330106', '1995-12-12', '013'),
    birthDate: '1995-12-12',
    locale: 'zh-CN',
    story: '1 installment partly paid (500.00 of 1,500.00 principal, interest paid), overdue 20 days',
    loans: [
      {
        loanId: 'DL07',
        annualRate: '0.19',
        installments: [
          { due: -20, principal: '1500.00', interest: '200.00', principalPaid: '500.00', interestPaid: '200.00' },
          ...monthly(10, 2, '1500.00', '180.00'),
        ],
      },
    ],
  },
  {
    borrowerId: 'D08',
    name: 'Michael Brown',
    phone: '13800138008',
    idNumber: residentId('110105', '1991-04-30', '077'),
    birthDate: '1991-04-30',
    locale: 'en',
    story: 'nothing overdue: next installment due in 5 days',
    loans: [{ loanId: 'DL08', annualRate: '0.18', installments: monthly(5, 3, '600.00', '90.00') }],
  },
  {
    borrowerId: 'D09',
    name: '陈静',
    phone: '13800138009',
    idNumber: residentId('420102', '1987-06-18', '042'),
    birthDate: '1987-06-18',
    locale: 'zh-CN',
    story: 'two loans: DL09 2 installments overdue, 45 days; DL10 not yet due',
    loans: [
      { loanId: 'DL09', annualRate: '0.21', installments: monthly(-45, 4, '700.00', '125.00') },
      { loanId: 'DL10', annualRate: '0.18', installments: monthly(12, 3, '3000.00', '450.00') },
    ],
  },
  {
    borrowerId: 'D10',
    name: 'David Lee',
    phone: '13800138010',
    idNumber: residentId('440106', '1993-02-28', '035'),
    birthDate: '1993-02-28',
    locale: 'en',
    story: '2 installments overdue, 75 days, the older one partly paid; 1 not yet due',
    loans: [
      {
        loanId: 'DL11',
        annualRate: '0.23',
        installments: [
          { due: -75, principal: '2500.00', interest: '350.00', principalPaid: '1000.00', interestPaid: '350.00' },
          { due: -45, principal: '2500.00', interest: '320.00' },
          { due: 15, principal: '2500.00', interest: '290.00' },
        ],
      },
    ],
  },
];

export const demoBorrowers: ReadonlyArray<{
  borrowerId: string;
  name: string;
  phone: string;
  idLast4: string;
  birthDate: string;
  locale: PortfolioLocale;
  story: string;
}> = BORROWERS.map((b) => ({
  borrowerId: b.borrowerId,
  name: b.name,
  phone: b.phone,
  idLast4: b.idNumber.slice(-4),
  birthDate: b.birthDate,
  locale: b.locale,
  story: b.story,
}));

/** The demo portfolio as contract CSV, due dates counted from `today` (YYYY-MM-DD, lender's zone). */
export function demoPortfolioCsv(today: string): string {
  const start = DateTime.fromISO(today, { zone: 'utc' });
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today) || !start.isValid) throw new Error(`today must be YYYY-MM-DD, got "${today}"`);
  const lines: string[] = [PORTFOLIO_COLUMNS.join(',')];
  for (const b of BORROWERS) {
    for (const loan of b.loans) {
      loan.installments.forEach((inst, i) => {
        const dueDate = start.plus({ days: inst.due }).toISODate();
        lines.push(
          [
            b.borrowerId,
            b.name,
            b.phone,
            b.idNumber,
            b.birthDate,
            b.locale,
            loan.loanId,
            'standard',
            loan.annualRate,
            String(i + 1),
            dueDate,
            inst.principal,
            inst.interest,
            inst.principalPaid ?? '0.00',
            inst.interestPaid ?? '0.00',
          ].join(','),
        );
      });
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * Imports the demo portfolio, through the same importer as `npm run import`, only when the
 * database holds no borrowers (so it never mixes with a real portfolio). The check is plain SQL:
 * a start on a database that holds borrowers does not load Prisma for it (db/client.ts).
 */
export async function seedDemoPortfolio(database: Pick<Database, 'prisma' | 'sql'>, options: { today: string; identitySecret: string }): Promise<{ seeded: boolean; summary?: string }> {
  if ((await database.sql.all('SELECT 1 FROM "Borrower" LIMIT 1')).length > 0) return { seeded: false };
  const result = await importPortfolioText(database.prisma, demoPortfolioCsv(options.today), {
    identitySecret: options.identitySecret,
    today: options.today,
  });
  if (!result.ok) throw new Error(`The demo portfolio does not import:\n${result.errors.join('\n')}`);
  return { seeded: true, summary: result.summary };
}
