import { extractIdentity, maskSpans } from '../../machines/recognition/identityEntities';

describe('extractIdentity', () => {
  test('all three details in one message', () => {
    const e = extractIdentity('13800138000 1234 1990-01-01');
    expect(e).toMatchObject({ phone: '13800138000', idLast4: '1234', birthDate: '1990-01-01', invalid: [] });
  });

  test.each([
    ['1990-01-01', '1990-01-01'],
    ['1990/1/1', '1990-01-01'],
    ['1990.01.01', '1990-01-01'],
    ['19900101', '1990-01-01'],
    ['1990年1月1日', '1990-01-01'],
    ['1990年01月01号', '1990-01-01'],
    ['1 Jan 1990', '1990-01-01'],
    ['1st of January 1990', '1990-01-01'],
    ['January 1, 1990', '1990-01-01'],
    ['Jan 1 1990', '1990-01-01'],
    ['5 May 1985', '1985-05-05'],
    ['31/12/1990', '1990-12-31'],
    ['１９９０－０１－０１', '1990-01-01'],
    ['2000-02-29', '2000-02-29'],
  ])('date of birth %s', (text, iso) => {
    expect(extractIdentity(text).birthDate).toBe(iso);
  });

  test('impossible dates are not read as dates and are reported', () => {
    expect(extractIdentity('1990-02-30').birthDate).toBeUndefined();
    expect(extractIdentity('1990-02-30').invalid).toContain('birthDate');
    expect(extractIdentity('1999-02-29').birthDate).toBeUndefined();
  });

  test('an ambiguous day/month order is not guessed', () => {
    expect(extractIdentity('01/02/1990').birthDate).toBeUndefined();
  });

  test.each([
    ['13800138000', '13800138000'],
    ['+86 138 0013 8000', '13800138000'],
    ['86-13800138000', '13800138000'],
    ['138-0013-8000', '13800138000'],
    ['我的手机号是13800138000', '13800138000'],
    ['１３８００１３８０００', '13800138000'],
  ])('phone %s', (text, phone) => {
    expect(extractIdentity(text).phone).toBe(phone);
  });

  test('a number that is not a mainland mobile is reported, not taken', () => {
    const e = extractIdentity('12345678901');
    expect(e.phone).toBeUndefined();
    expect(e.invalid).toContain('phone');
    expect(extractIdentity('1380013800').invalid).toContain('phone');
  });

  test.each([
    ['448x', '448X'],
    ['448X', '448X'],
    ['尾号1234', '1234'],
    ['后四位是 0012', '0012'],
    ['110101199001011234', '1234'],
  ])('ID last four %s', (text, last4) => {
    expect(extractIdentity(text).idLast4).toBe(last4);
  });

  test('a year inside a date is not taken for the ID last four', () => {
    const e = extractIdentity('1990-01-01');
    expect(e.idLast4).toBeUndefined();
  });

  test('in any order, with words around them', () => {
    const e = extractIdentity('生日1985年5月5日，身份证后四位448x，手机13000000002');
    expect(e).toMatchObject({ phone: '13000000002', idLast4: '448X', birthDate: '1985-05-05' });
  });

  test('masking hides every detail and keeps the rest', () => {
    const text = '手机13800138000 后四位1234 生日1990-01-01';
    const e = extractIdentity(text);
    const masked = maskSpans(text, e.spans);
    expect(masked).not.toMatch(/13800138000|1234|1990/);
    expect(masked).toContain('手机');
    expect(masked).toContain('生日');
  });
});
