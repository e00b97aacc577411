import {
  extractAmounts,
  extractComplaintCategory,
  extractDates,
  extractInstallmentCount,
  extractPaymentMethod,
} from '../../machines/recognition/entities';
import { matchesOf } from '../../machines/recognition/entities/text';

const values = (text: string) => extractAmounts(text).map((a) => a.value);
/** Noon on a local date in Shanghai, the lender's time zone. */
const on = (localDate: string) => ({ now: new Date(`${localDate}T12:00:00+08:00`), timeZone: 'Asia/Shanghai' });
const WEDNESDAY = on('2026-11-18');
const datesOf = (text: string, ref = WEDNESDAY) => extractDates(text, ref).map((d) => d.date);

describe('extractAmounts', () => {
  test.each([
    ['3500', '3500.00'],
    ['3,500.00', '3500.00'],
    ['3 500', '3500.00'],
    ['¥3500', '3500.00'],
    ['￥3500', '3500.00'],
    ['3500元', '3500.00'],
    ['3500块', '3500.00'],
    ['3500块钱', '3500.00'],
    ['3500 yuan', '3500.00'],
    ['RMB 3500', '3500.00'],
    ['rmb3500', '3500.00'],
    ['CNY 3,500.50', '3500.50'],
    ['3500 RMB', '3500.00'],
    ['人民币3500元', '3500.00'],
    ['3.5k', '3500.00'],
    ['3.5K', '3500.00'],
    ['2w', '20000.00'],
    ['2万', '20000.00'],
    ['2.5万', '25000.00'],
    ['1.2千', '1200.00'],
    ['3千5', '3500.00'],
    ['1万2000', '12000.00'],
    ['三千五', '3500.00'],
    ['三千五百元', '3500.00'],
    ['两千', '2000.00'],
    ['两千五', '2500.00'],
    ['一万二', '12000.00'],
    ['一万零五百', '10500.00'],
    ['三十五万', '350000.00'],
    ['三百八十块五毛', '380.50'],
    ['五毛', '0.50'],
    ['五毛六', '0.56'],
    ['一千二百三十四块五角六分', '1234.56'],
    ['两块零五分', '2.05'],
    ['3块5', '3.50'],
    ['三块五', '3.50'],
    ['十五', '15.00'],
    ['二十', '20.00'],
    ['一百零八', '108.00'],
    ['一千零五', '1005.00'],
    ['壹仟伍佰元', '1500.00'],
    ['３５００', '3500.00'],
    ['３，５００元', '3500.00'],
    ['¥ 3 500.00', '3500.00'],
    ['3500　元', '3500.00'],
    ['0.5', '0.50'],
  ])('%s → %s', (text, value) => {
    expect(values(text)).toEqual([value]);
  });

  test('amounts inside colloquial sentences, with spans into the text as given', () => {
    expect(extractAmounts('I paid 3.5k yesterday via alipay')).toEqual([{ value: '3500.00', start: 7, end: 11, raw: '3.5k' }]);
    expect(extractAmounts('下个月15号前能还两千')).toEqual([{ value: '2000.00', start: 9, end: 11, raw: '两千' }]);
    expect(extractAmounts('昨天还了３５００块')).toEqual([{ value: '3500.00', start: 4, end: 9, raw: '３５００块' }]);
    expect(values('我还了3500')).toEqual(['3500.00']);
  });

  test('several amounts, each once (jiao and fen belong to the amount before them)', () => {
    expect(values('先还1000剩下2000下个月还')).toEqual(['1000.00', '2000.00']);
    expect(values('三百八十块五毛和五毛')).toEqual(['380.50', '0.50']);
    expect(values('周五3000')).toEqual(['3000.00']);
    expect(values('3000块5号再还2000')).toEqual(['3000.00', '2000.00']);
    expect(values('每期2000分3期')).toEqual(['2000.00']);
  });

  test.each([
    ['分6期'],
    ['分成12期'],
    ['6 installments'],
    ['6 payments'],
    ['in 6'],
    ['13800138000'],
    ['+86 138 0013 8000'],
    ['2026-12-15'],
    ['2026/12/15'],
    ['12/15'],
    ['12月15日'],
    ['15号'],
    ['十五号'],
    ['Dec 15'],
    ['15 Dec'],
    ['December 15th'],
    ['on the 10th'],
    ['3点'],
    ['下午3:30'],
    ['3 pm'],
    ['5%'],
    ['百分之五十'],
    ['年化24 %'],
    ['尾号1234'],
    ['ID 1234'],
    ['12/25/2026'],
    ['12-15'],
    ['身份证后四位 0012'],
    ['448X'],
    ['0012'],
    ['第3期'],
    ['6个月'],
    ['6 months'],
    ['三天后'],
    ['2026年'],
    ['周5'],
    ['千万别打电话给我家人'],
    ['一下'],
    ['十分感谢'],
    ['五分钟'],
    ['订单号123456789012'],
    ['3.567'],
    ['这个月失业了还不上，能不能晚点还'],
  ])('no amount in %s', (text) => {
    expect(extractAmounts(text)).toEqual([]);
  });

  test('a number after a month is a day, but a large one is money: 每月3000', () => {
    expect(values('12月15')).toEqual([]);
    expect(values('每月3000')).toEqual(['3000.00']);
  });
});

describe('extractDates', () => {
  test.each([
    ['2026-12-15', '2026-12-15'],
    ['2026/12/15', '2026-12-15'],
    ['2026.12.15', '2026-12-15'],
    ['2026年12月15日', '2026-12-15'],
    ['2026年十二月十五号', '2026-12-15'],
    ['12/15', '2026-12-15'],
    ['15/12', '2026-12-15'],
    ['15/12/2026', '2026-12-15'],
    ['5/5', '2027-05-05'],
    ['12月15日', '2026-12-15'],
    ['12月15号', '2026-12-15'],
    ['十二月十五日', '2026-12-15'],
    ['12月15还', '2026-12-15'],
    ['3月1日', '2027-03-01'],
    ['15号', '2026-12-15'],
    ['15日', '2026-12-15'],
    ['十五号', '2026-12-15'],
    ['二十号', '2026-11-20'],
    ['三十一日', '2026-12-31'],
    ['廿一号', '2026-11-21'],
    ['下个月15号', '2026-12-15'],
    ['下个月的15号', '2026-12-15'],
    ['下月10号', '2026-12-10'],
    ['下下个月1号', '2027-01-01'],
    ['这个月20号', '2026-11-20'],
    ['本月10号', '2026-11-10'],
    ['这个月底', '2026-11-30'],
    ['本月底', '2026-11-30'],
    ['月底', '2026-11-30'],
    ['月末', '2026-11-30'],
    ['下个月底', '2026-12-31'],
    ['下月月底', '2026-12-31'],
    ['今天', '2026-11-18'],
    ['明天', '2026-11-19'],
    ['后天', '2026-11-20'],
    ['大后天', '2026-11-21'],
    ['下周五', '2026-11-27'],
    ['下星期五', '2026-11-27'],
    ['下礼拜五', '2026-11-27'],
    ['下个星期一', '2026-11-23'],
    ['下下周一', '2026-11-30'],
    ['这周五', '2026-11-20'],
    ['本周五', '2026-11-20'],
    ['周五', '2026-11-20'],
    ['星期天', '2026-11-22'],
    ['周一', '2026-11-23'],
    ['3天后', '2026-11-21'],
    ['3天之后', '2026-11-21'],
    ['三天后', '2026-11-21'],
    ['十天以后', '2026-11-28'],
    ['一周后', '2026-11-25'],
    ['两周后', '2026-12-02'],
    ['两个星期后', '2026-12-02'],
    ['一个礼拜后', '2026-11-25'],
    ['一个月后', '2026-12-18'],
    ['today', '2026-11-18'],
    ['tomorrow', '2026-11-19'],
    ['the day after tomorrow', '2026-11-20'],
    ['next Friday', '2026-11-27'],
    ['this Friday', '2026-11-20'],
    ['Friday', '2026-11-20'],
    ['on Friday', '2026-11-20'],
    ['Dec 15', '2026-12-15'],
    ['December 15th', '2026-12-15'],
    ['15 Dec', '2026-12-15'],
    ['15th of December', '2026-12-15'],
    ['Dec 15 2026', '2026-12-15'],
    ['December 15th, 2026', '2026-12-15'],
    ['15 Dec 2026', '2026-12-15'],
    ['in two weeks', '2026-12-02'],
    ['in 3 days', '2026-11-21'],
    ['in a month', '2026-12-18'],
    ['3 days later', '2026-11-21'],
    ['end of the month', '2026-11-30'],
    ['end of month', '2026-11-30'],
    ['end of next month', '2026-12-31'],
    ['next month 10th', '2026-12-10'],
    ['next month on the 10th', '2026-12-10'],
    ['the 10th of next month', '2026-12-10'],
    ['on the 10th', '2026-12-10'],
    ['on the 20th', '2026-11-20'],
    ['１２月１５日', '2026-12-15'],
  ])('%s → %s (today Wednesday 2026-11-18)', (text, date) => {
    expect(datesOf(text)).toEqual([date]);
  });

  test('in a sentence, with the span of the words that name the date', () => {
    expect(extractDates('推迟到下个月10号', WEDNESDAY)).toEqual([{ date: '2026-12-10', start: 3, end: 9, raw: '下个月10号' }]);
    expect(extractDates('extend to Dec 15', WEDNESDAY)).toEqual([{ date: '2026-12-15', start: 10, end: 16, raw: 'Dec 15' }]);
    expect(datesOf('下个月15号前能还两千')).toEqual(['2026-12-15']);
    expect(datesOf('明天还一半，下周五还剩下的')).toEqual(['2026-11-19', '2026-11-27']);
  });

  test('15号: this month when still ahead, today when it is today, next month when past', () => {
    expect(datesOf('15号', on('2026-11-10'))).toEqual(['2026-11-15']);
    expect(datesOf('15号', on('2026-11-15'))).toEqual(['2026-11-15']);
    expect(datesOf('15号', on('2026-11-20'))).toEqual(['2026-12-15']);
    expect(datesOf('15号', on('2026-12-20'))).toEqual(['2027-01-15']);
  });

  test('a day the month lacks moves to the next month that has it', () => {
    expect(datesOf('31号', on('2026-11-05'))).toEqual(['2026-12-31']);
    expect(datesOf('30号', on('2027-02-10'))).toEqual(['2027-03-30']);
    expect(datesOf('29号', on('2027-02-10'))).toEqual(['2027-03-29']);
    expect(datesOf('29号', on('2028-02-10'))).toEqual(['2028-02-29']);
  });

  test('a day that does not exist in a named month is not a date', () => {
    expect(datesOf('下个月31号', on('2026-10-05'))).toEqual([]);
    expect(datesOf('2月30日')).toEqual([]);
  });

  test('month ends: one month after Jan 31 is the last day of February', () => {
    expect(datesOf('一个月后', on('2027-01-31'))).toEqual(['2027-02-28']);
    expect(datesOf('in a month', on('2028-01-31'))).toEqual(['2028-02-29']);
    expect(datesOf('月底', on('2027-02-10'))).toEqual(['2027-02-28']);
    expect(datesOf('月底', on('2028-02-10'))).toEqual(['2028-02-29']);
    expect(datesOf('这个月底', on('2026-11-30'))).toEqual(['2026-11-30']);
    expect(datesOf('下个月底', on('2027-01-31'))).toEqual(['2027-02-28']);
  });

  test('leap years: Feb 29 exists only in leap years', () => {
    expect(datesOf('2028-02-29')).toEqual(['2028-02-29']);
    expect(datesOf('2027-02-29')).toEqual([]);
    expect(datesOf('2月29日', on('2028-01-10'))).toEqual(['2028-02-29']);
    expect(datesOf('2月29日', on('2027-01-10'))).toEqual([]);
    expect(datesOf('Feb 29', on('2027-01-10'))).toEqual([]);
    expect(datesOf('2月29日', on('2027-03-01'))).toEqual(['2028-02-29']);
  });

  test('a month and day already past this year is next year; an explicit past year is kept', () => {
    expect(datesOf('12月15日', on('2026-12-20'))).toEqual(['2027-12-15']);
    expect(datesOf('12月15日', on('2026-12-15'))).toEqual(['2026-12-15']);
    expect(datesOf('2020-01-01')).toEqual(['2020-01-01']);
  });

  test('weekdays: the coming one includes today; next week\'s is in the week after this one', () => {
    const friday = on('2026-11-20');
    const saturday = on('2026-11-21');
    expect(datesOf('周五', friday)).toEqual(['2026-11-20']);
    expect(datesOf('Friday', friday)).toEqual(['2026-11-20']);
    expect(datesOf('下周五', friday)).toEqual(['2026-11-27']);
    expect(datesOf('这周五', saturday)).toEqual(['2026-11-27']);
    expect(datesOf('下周五', saturday)).toEqual(['2026-11-27']);
    expect(datesOf('next Monday', saturday)).toEqual(['2026-11-23']);
  });

  test('time zone: 17:00 UTC on Nov 30 is already Dec 1 in Shanghai', () => {
    const ref = { now: new Date('2026-11-30T17:00:00Z'), timeZone: 'Asia/Shanghai' };
    expect(datesOf('今天', ref)).toEqual(['2026-12-01']);
    expect(datesOf('明天', ref)).toEqual(['2026-12-02']);
    expect(datesOf('月底', ref)).toEqual(['2026-12-31']);
    expect(datesOf('明天', { ...ref, timeZone: 'UTC' })).toEqual(['2026-12-01']);
  });

  test('an unknown time zone is an error, not a silent guess', () => {
    expect(() => extractDates('明天', { now: new Date(), timeZone: 'Mars/Olympus' })).toThrow(/time zone/);
  });

  test.each([
    ['13800138000'],
    ['3/4'],
    ['我还了3500'],
    ['分6期'],
    ['3日内还清'],
    ['3号楼'],
    ['the 2nd installment'],
    ['这个月失业了还不上'],
    ['12:30'],
  ])('no date in %s', (text) => {
    expect(extractDates(text, WEDNESDAY)).toEqual([]);
  });
});

describe('extractInstallmentCount', () => {
  test.each([
    ['分6期', 6],
    ['分六期', 6],
    ['分成12期', 12],
    ['分成十二期', 12],
    ['分 6 期吧', 6],
    ['6期', 6],
    ['六期', 6],
    ['十二期', 12],
    ['两期', 2],
    ['分6个月还', 6],
    ['分期6个月', 6],
    ['我想分期，6个月', 6],
    ['6 installments', 6],
    ['six installments', 6],
    ['12 monthly payments', 12],
    ['6 payments', 6],
    ['split it over 6 months', 6],
    ['installments for 6 months', 6],
    ['can I pay in 6', 6],
    ['in 6 installments', 6],
    ['in three', 3],
    ['６期', 6],
    ['6个月后再说，先分12期', 12],
    ['分三次', 3],
    ['分两次还清', 2],
    ['split into 6', 6],
  ])('%s → %d', (text, count) => {
    expect(extractInstallmentCount(text)).toBe(count);
  });

  test.each([
    ['我还了3500'],
    ['第6期'],
    ['逾期3期了'],
    ['6个月'],
    ['6个月后还'],
    ['6 months'],
    ['in 6 months'],
    ['in 6 days'],
    ['in one go'],
    ['6'],
    ['六'],
    ['3期还是6期'],
  ])('no count in %s', (text) => {
    expect(extractInstallmentCount(text)).toBeUndefined();
  });

  test('the same count said twice is still that count', () => {
    expect(extractInstallmentCount('分6期，就6 installments')).toBe(6);
  });

  test.each([
    ['6', 6],
    ['12', 12],
    ['6吧', 6],
    ['6 please', 6],
    ['就6个吧', 6],
    ['六', 6],
    ['十二吧', 12],
    ['１２', 12],
  ])('a bare number counts when the bot asked for one: %s → %d', (text, count) => {
    expect(extractInstallmentCount(text, { expecting: 'installmentCount' })).toBe(count);
  });

  test.each([['3500'], ['15号'], ['6 days'], ['我想一下'], ['6 or 12'], ['13800138000']])(
    'not a count even when asked for one: %s',
    (text) => {
      expect(extractInstallmentCount(text, { expecting: 'installmentCount' })).toBeUndefined();
    },
  );
});

describe('extractPaymentMethod', () => {
  test.each([
    ['支付宝', 'alipay'],
    ['用alipay付的', 'alipay'],
    ['Ali Pay', 'alipay'],
    ['zfb转的', 'alipay'],
    ['用支付宝转账的', 'alipay'],
    ['I paid 3.5k yesterday via alipay', 'alipay'],
    ['微信', 'wechat_pay'],
    ['微信支付', 'wechat_pay'],
    ['微信转账', 'wechat_pay'],
    ['wechat', 'wechat_pay'],
    ['WeChat Pay', 'wechat_pay'],
    ['weixin', 'wechat_pay'],
    ['wx', 'wechat_pay'],
    ['vx转你了', 'wechat_pay'],
    ['银行转账', 'bank_transfer'],
    ['转账', 'bank_transfer'],
    ['网银', 'bank_transfer'],
    ['银行卡', 'bank_transfer'],
    ['bank transfer', 'bank_transfer'],
    ['wire', 'bank_transfer'],
    ['bank', 'bank_transfer'],
    ['其他', 'other'],
    ['other', 'other'],
    ['cash', 'other'],
    ['现金', 'other'],
    ['先微信后来又用支付宝', 'wechat_pay'],
  ])('%s → %s', (text, method) => {
    expect(extractPaymentMethod(text)).toBe(method);
  });

  test.each([['我还了3500'], ['wireless'], ['cashier'], ['wxyz']])('no method in %s', (text) => {
    expect(extractPaymentMethod(text)).toBeUndefined();
  });
});

describe('extractComplaintCategory', () => {
  test.each([
    ['催收天天打电话', 'collection_conduct'],
    ['一直骚扰我', 'collection_conduct'],
    ['威胁我要上门', 'collection_conduct'],
    ['爆通讯录', 'collection_conduct'],
    ['打电话给我家人', 'collection_conduct'],
    ['催收态度很差', 'collection_conduct'],
    ['collectors keep calling', 'collection_conduct'],
    ['they called my boss', 'collection_conduct'],
    ['罚息太高了', 'fees_and_penalties'],
    ['发息太高', 'fees_and_penalties'],
    ['利息太高', 'fees_and_penalties'],
    ['乱收费', 'fees_and_penalties'],
    ['费用不合理', 'fees_and_penalties'],
    ['服务费太贵', 'fees_and_penalties'],
    ['too many fees', 'fees_and_penalties'],
    ['the interest is crazy', 'fees_and_penalties'],
    ['你们泄露我的隐私', 'privacy'],
    ['个人信息被泄露', 'privacy'],
    ['privacy', 'privacy'],
    ['you shared my data', 'privacy'],
    ['还款没到账', 'repayment_processing'],
    ['重复扣款', 'repayment_processing'],
    ['一直没入账', 'repayment_processing'],
    ['payment not credited', 'repayment_processing'],
    ['服务太差', 'service'],
    ['态度不好', 'service'],
    ['客服不回消息', 'service'],
    ['bad service', 'service'],
    ['the agent was rude', 'service'],
    ['其他问题', 'other'],
    ['something else', 'other'],
  ])('%s → %s', (text, category) => {
    expect(extractComplaintCategory(text)).toBe(category);
  });

  test.each([['我想投诉'], ['not interested'], ['我还了3500']])('no category in %s', (text) => {
    expect(extractComplaintCategory(text)).toBeUndefined();
  });
});

describe('matchesOf', () => {
  const same = (text: string, re: RegExp) => {
    const expected = [...text.matchAll(re)].map((m) => [m.index, ...m]);
    expect(matchesOf(text, re).map((m) => [m.index, ...m])).toEqual(expected);
    expect(re.lastIndex).toBe(0);
  };

  test('finds what String#matchAll finds, groups and offsets included', () => {
    same('借款1000元，还了200元，剩800', /(\d+)(元)?/g);
    same('no digits here', /\d+/g);
    same('138 0013 8000 / 13900139000', /1[3-9]\d(?:\s?\d{4}){2}/g);
  });

  test('steps over empty matches, a whole code point at a time in unicode mode', () => {
    same('a😀b', /x*/g);
    same('a😀b', /x*/gu);
  });

  test('starts from the beginning whatever the pattern was left at, and leaves it there', () => {
    const re = /\d/g;
    re.lastIndex = 3;
    expect(matchesOf('1a2b3', re).map((m) => m.index)).toEqual([0, 2, 4]);
    expect(re.lastIndex).toBe(0);
  });

  test('refuses a pattern that is not global, as String#matchAll does', () => {
    expect(() => matchesOf('1', /\d/)).toThrow(TypeError);
  });
});
