import {
  formatProblem,
  PORTFOLIO_COLUMNS,
  type PortfolioColumn,
  portfolioRowValidator,
  validatePortfolioRow,
  yuanText,
} from '../../portfolio/portfolioRow';

const TODAY = '2026-11-22';

const good: Record<PortfolioColumn, string> = {
  borrower_id: 'B1001',
  name: '张伟',
  phone: '13800138000',
  id_number: '110101199001011234',
  date_of_birth: '1990-01-01',
  locale: 'zh-CN',
  loan_id: 'L1001',
  product: 'standard',
  annual_rate: '0.18',
  installment_no: '1',
  due_date: '2026-10-23',
  principal_due: '950.00',
  interest_due: '180.00',
  principal_paid: '0',
  interest_paid: '0',
};

function check(patch: Partial<Record<PortfolioColumn, string>>, options: { products?: ReadonlySet<string> } = {}) {
  return validatePortfolioRow({ ...good, ...patch }, { today: TODAY, ...options });
}

/** The problems of a row with `patch` applied, as "column: reason". */
function problems(patch: Partial<Record<PortfolioColumn, string>>, options: { products?: ReadonlySet<string> } = {}): string[] {
  const r = check(patch, options);
  return r.ok ? [] : r.problems.map((p) => `${p.column}: ${p.reason}`);
}

function row(patch: Partial<Record<PortfolioColumn, string>> = {}) {
  const r = check(patch);
  if (!r.ok) throw new Error(`expected a valid row, got ${JSON.stringify(r.problems)}`);
  return r.row;
}

describe('portfolio row', () => {
  it('has the 15 contract columns', () => {
    expect(PORTFOLIO_COLUMNS).toHaveLength(15);
  });

  it('turns a good row into a typed row, money in integer fen', () => {
    expect(row()).toEqual({
      borrowerId: 'B1001',
      name: '张伟',
      phone: '13800138000',
      idNumber: '110101199001011234',
      idLast4: '1234',
      birthDate: '1990-01-01',
      locale: 'zh-CN',
      loanId: 'L1001',
      product: 'standard',
      annualRate: '0.18',
      installmentNo: 1,
      dueDate: '2026-10-23',
      principalDueFen: 95000,
      interestDueFen: 18000,
      principalPaidFen: 0,
      interestPaidFen: 0,
    });
  });

  it('trims cells', () => {
    expect(row({ borrower_id: '  B1 ', name: ' Emily Chen ' })).toMatchObject({ borrowerId: 'B1', name: 'Emily Chen' });
  });

  it('formats a problem the contract way', () => {
    expect(formatProblem(3, 'due_date', 'x')).toBe('line 3, column due_date: x');
  });

  it('lists every bad column of a row, in column order', () => {
    expect(problems({ due_date: '2026-11-31', phone: '123', locale: 'fr' })).toEqual([
      'phone: is not a mainland mobile number (11 digits starting with 1, "+86" allowed in front)',
      'locale: "fr" is not a supported locale (zh-CN or en)',
      'due_date: "2026-11-31" is not a real calendar date (YYYY-MM-DD)',
    ]);
  });

  describe('borrower_id and loan_id', () => {
    it.each(['borrower_id', 'loan_id'] as const)('%s: 1 to 64 characters', (column) => {
      expect(problems({ [column]: 'x' })).toEqual([]);
      expect(problems({ [column]: 'x'.repeat(64) })).toEqual([]);
      expect(problems({ [column]: '' })).toEqual([`${column}: is empty`]);
      expect(problems({ [column]: '   ' })).toEqual([`${column}: is empty`]);
      expect(problems({ [column]: 'x'.repeat(65) })).toEqual([`${column}: is longer than 64 characters`]);
    });
  });

  describe('name', () => {
    it('accepts Chinese and English names', () => {
      expect(problems({ name: 'Emily Chen' })).toEqual([]);
      expect(problems({ name: '欧阳娜娜' })).toEqual([]);
    });
    it('refuses empty, too long, and text that was not UTF-8', () => {
      expect(problems({ name: '' })).toEqual(['name: is empty']);
      expect(problems({ name: 'a'.repeat(101) })).toEqual(['name: is longer than 100 characters']);
      expect(problems({ name: '\uFFFD\uFFFD' })).toEqual(['name: contains characters that are not UTF-8 (save the file as "CSV UTF-8")']);
    });
  });

  describe('phone', () => {
    it.each([
      ['13800138000', '13800138000'],
      ['+8613800138000', '13800138000'],
      ['+86 13800138000', '13800138000'],
      ['+86-13800138000', '13800138000'],
      ['138-0013-8000', '13800138000'],
      ['19912345678', '19912345678'],
    ])('accepts %s as %s', (input, stored) => {
      expect(row({ phone: input }).phone).toBe(stored);
    });
    it.each(['1380013800', '138001380001', '23800138000', '1380013800a', '+85213800138000', '010-12345678'])('refuses %s without repeating it', (input) => {
      const found = problems({ phone: input });
      expect(found).toEqual(['phone: is not a mainland mobile number (11 digits starting with 1, "+86" allowed in front)']);
      expect(found.join()).not.toContain(input);
    });
    it('refuses an empty phone', () => {
      expect(problems({ phone: '' })).toEqual(['phone: is empty']);
    });
  });

  describe('id_number', () => {
    it.each(['110101199001011384', '11010119850505448X', '110101199001011234'])('accepts the contract example %s (format only, no checksum)', (id) => {
      expect(problems({ id_number: id })).toEqual([]);
    });
    it('upper-cases x and keeps the last 4 for the identity check', () => {
      expect(row({ id_number: '11010119850505448x' })).toMatchObject({ idNumber: '11010119850505448X', idLast4: '448X' });
    });
    it.each(['11010119900101123', '1101011990010112345', '11010119900101123Y', 'X10101199001011234', '110101-99001011234'])(
      'refuses %s without repeating it',
      (id) => {
        const found = problems({ id_number: id });
        expect(found).toEqual(['id_number: is not an 18-character resident ID number (17 digits, then a digit or X)']);
        expect(found.join()).not.toContain(id);
      },
    );
    it('refuses an empty ID number', () => {
      expect(problems({ id_number: '' })).toEqual(['id_number: is empty']);
    });
  });

  describe('date_of_birth', () => {
    it('accepts a real past date', () => {
      expect(row({ date_of_birth: '2000-02-29' }).birthDate).toBe('2000-02-29');
      expect(problems({ date_of_birth: TODAY })).toEqual([]);
    });
    it.each([
      ['1990/01/01', 'is not a date in the form YYYY-MM-DD'],
      ['19900101', 'is not a date in the form YYYY-MM-DD'],
      ['1990-1-1', 'is not a date in the form YYYY-MM-DD'],
      ['1990-02-30', 'is not a real calendar date (YYYY-MM-DD)'],
      ['1900-02-29', 'is not a real calendar date (YYYY-MM-DD)'],
      ['1899-12-31', 'is outside the years 1900 to 2199'],
      ['2026-11-23', 'is in the future'],
      ['', 'is empty'],
    ])('refuses %s: %s (without repeating it)', (input, reason) => {
      const found = problems({ date_of_birth: input });
      expect(found).toEqual([`date_of_birth: ${reason}`]);
      if (input) expect(found.join()).not.toContain(input);
    });
  });

  describe('locale', () => {
    it.each(['zh-CN', 'en'])('accepts %s', (l) => expect(row({ locale: l }).locale).toBe(l));
    it.each(['zh', 'en-US', 'fr', 'ZH-cn'])('refuses %s', (l) => {
      expect(problems({ locale: l })).toEqual([`locale: "${l}" is not a supported locale (zh-CN or en)`]);
    });
  });

  describe('product', () => {
    it('must be defined in the policy', () => {
      expect(problems({ product: 'gold' })).toEqual(['product: "gold" is not a product defined in the policy (standard)']);
      expect(problems({ product: 'gold' }, { products: new Set(['standard', 'gold']) })).toEqual([]);
      expect(problems({ product: '' })).toEqual(['product: is empty (standard)']);
    });
  });

  describe('annual_rate', () => {
    it.each([
      ['0.18', '0.18'],
      ['0.180', '0.18'],
      ['.24', '0.24'],
      ['0', '0'],
      ['1', '1'],
      ['0.123456', '0.123456'],
    ])('accepts %s as %s', (input, stored) => {
      expect(row({ annual_rate: input }).annualRate).toBe(stored);
    });
    it.each([
      ['18%', '"18%" is not a decimal fraction (e.g. 0.18 for 18%)'],
      ['1e-1', '"1e-1" is not a decimal fraction (e.g. 0.18 for 18%)'],
      ['abc', '"abc" is not a decimal fraction (e.g. 0.18 for 18%)'],
      ['18', '"18" is more than 1: write the rate as a fraction (e.g. 0.18 for 18%)'],
      ['-0.1', '"-0.1" is negative'],
      ['0.123456789', '"0.123456789" has more than 8 decimal places'],
      ['', 'is empty'],
    ])('refuses %s', (input, reason) => {
      expect(problems({ annual_rate: input })).toEqual([`annual_rate: ${reason}`]);
    });
  });

  describe('installment_no', () => {
    it.each([
      ['1', 1],
      ['12', 12],
      ['007', 7],
    ])('accepts %s', (input, n) => expect(row({ installment_no: input }).installmentNo).toBe(n));
    it.each([
      ['0', '"0" is not a whole number ≥ 1'],
      ['-1', '"-1" is not a whole number ≥ 1'],
      ['1.5', '"1.5" is not a whole number ≥ 1'],
      ['one', '"one" is not a whole number ≥ 1'],
      ['10000', '"10000" is more than 9999'],
      ['', 'is empty'],
    ])('refuses %s', (input, reason) => {
      expect(problems({ installment_no: input })).toEqual([`installment_no: ${reason}`]);
    });
  });

  describe('due_date', () => {
    it('accepts real dates, past or future', () => {
      expect(row({ due_date: '2028-02-29' }).dueDate).toBe('2028-02-29');
      expect(row({ due_date: '2020-01-31' }).dueDate).toBe('2020-01-31');
    });
    it.each([
      ['2026-11-31', '"2026-11-31" is not a real calendar date (YYYY-MM-DD)'],
      ['2027-02-29', '"2027-02-29" is not a real calendar date (YYYY-MM-DD)'],
      ['2026-13-01', '"2026-13-01" is not a real calendar date (YYYY-MM-DD)'],
      ['2026/11/30', '"2026/11/30" is not a date in the form YYYY-MM-DD'],
      ['30.11.2026', '"30.11.2026" is not a date in the form YYYY-MM-DD'],
      ['', 'is empty'],
    ])('refuses %s', (input, reason) => {
      expect(problems({ due_date: input })).toEqual([`due_date: ${reason}`]);
    });
  });

  describe('amounts', () => {
    const columns = ['principal_due', 'interest_due', 'principal_paid', 'interest_paid'] as const;
    it.each([
      ['0', 0],
      ['0.00', 0],
      ['950', 95000],
      ['950.5', 95050],
      ['0.01', 1],
      ['0.29', 29], // 0.29 * 100 is 28.999999999999996 in binary floating point
      ['1.005', null],
      ['1.10', 110],
      ['10000000.00', 1_000_000_000],
      ['1152.60', 115260],
    ])('%s → %s fen, exactly', (input, fen) => {
      for (const column of columns) {
        const patch = column.endsWith('paid') ? { [column]: input, principal_due: '10000000', interest_due: '10000000' } : { [column]: input };
        const r = check(patch);
        if (fen === null) expect(r.ok).toBe(false);
        else expect(r.ok && r.row[({ principal_due: 'principalDueFen', interest_due: 'interestDueFen', principal_paid: 'principalPaidFen', interest_paid: 'interestPaidFen' } as const)[column]]).toBe(fen);
      }
    });
    it.each([
      ['1.005', '"1.005" has more than 2 decimal places'],
      ['-1', '"-1" is negative'],
      ['10000000.01', '"10000000.01" is more than 10,000,000.00'],
      ['1,234.50', '"1,234.50" is not an amount (e.g. 950.00)'],
      ['¥950', '"¥950" is not an amount (e.g. 950.00)'],
      ['1e3', '"1e3" is not an amount (e.g. 950.00)'],
      ['', 'is empty (write 0 for nothing)'],
    ])('refuses %s', (input, reason) => {
      for (const column of columns) expect(problems({ [column]: input })).toEqual([`${column}: ${reason}`]);
    });
    it('refuses paid more than due, on the paid column', () => {
      expect(problems({ principal_paid: '950.01' })).toEqual(['principal_paid: 950.01 is more than principal_due (950.00)']);
      expect(problems({ interest_paid: '200' })).toEqual(['interest_paid: 200.00 is more than interest_due (180.00)']);
      expect(problems({ principal_paid: '950', interest_paid: '180.00' })).toEqual([]);
    });
  });

  it('skips columns the header lacks but reports the row as not usable', () => {
    const { phone: _phone, ...rest } = good;
    const r = portfolioRowValidator({ today: TODAY })(rest);
    expect(r).toEqual({ ok: false, problems: [] });
  });

  it('writes fen as yuan with two decimals', () => {
    expect(yuanText(115260)).toBe('1152.60');
    expect(yuanText(1)).toBe('0.01');
    expect(yuanText(0)).toBe('0.00');
  });
});
