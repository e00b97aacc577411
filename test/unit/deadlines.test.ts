import { complaintDueDate, daysLeft, isBreached } from '../../machines/domain/deadlines';

/** Every expected date below is counted by hand on a calendar: creation day (local) + 15 days. */
const SH = 'Asia/Shanghai';

describe('complaintDueDate', () => {
  test.each([
    ['mid-month', '2026-11-22T10:00:00+08:00', '2026-12-07'],
    ['across a 30-day month end', '2026-11-20T09:00:00+08:00', '2026-12-05'], // 10 days left in Nov + 5
    ['across a 31-day month end', '2026-01-25T09:00:00+08:00', '2026-02-09'], // 6 left in Jan + 9
    ['across the year end', '2026-12-20T09:00:00+08:00', '2027-01-04'], // 11 left in Dec + 4
    ['through February of a common year', '2027-02-20T09:00:00+08:00', '2027-03-07'], // 8 left in Feb + 7
    ['through February of a leap year', '2028-02-20T09:00:00+08:00', '2028-03-06'], // 9 left (29th) + 6
    ['from the leap day', '2028-02-29T09:00:00+08:00', '2028-03-15'],
  ])('%s', (_, createdAt, due) => {
    expect(complaintDueDate(new Date(createdAt), SH)).toBe(due);
  });

  test('the creation day is the lender’s local date, not the UTC one', () => {
    // 23:30 UTC on 31 Jan is 07:30 on 1 Feb in Shanghai: due 1 Feb + 15 = 16 Feb (UTC would say 15 Feb).
    expect(complaintDueDate(new Date('2026-01-31T23:30:00Z'), SH)).toBe('2026-02-16');
    expect(complaintDueDate(new Date('2026-01-31T23:30:00Z'), 'UTC')).toBe('2026-02-15');
    // New Year's Eve 16:30 UTC is already 1 Jan 2027 00:30 in Shanghai.
    expect(complaintDueDate(new Date('2026-12-31T16:30:00Z'), SH)).toBe('2027-01-16');
    // …and 15:59 UTC is still 31 Dec 23:59 there.
    expect(complaintDueDate(new Date('2026-12-31T15:59:00Z'), SH)).toBe('2027-01-15');
  });

  test('another number of days', () => {
    expect(complaintDueDate(new Date('2026-11-22T10:00:00+08:00'), SH, 30)).toBe('2026-12-22');
  });
});

describe('daysLeft', () => {
  test('counts calendar days, 0 on the due date, negative after it', () => {
    expect(daysLeft('2026-12-07', '2026-11-22')).toBe(15);
    expect(daysLeft('2027-01-04', '2026-12-31')).toBe(4);
    expect(daysLeft('2028-03-01', '2028-02-28')).toBe(2); // through the leap day
    expect(daysLeft('2027-03-01', '2027-02-28')).toBe(1);
    expect(daysLeft('2026-12-07', '2026-12-07')).toBe(0);
    expect(daysLeft('2026-12-07', '2026-12-09')).toBe(-2);
  });
});

describe('isBreached', () => {
  test('an open complaint is breached from the day after its due date', () => {
    for (const status of ['received', 'acknowledged', 'in_progress']) {
      expect(isBreached('2026-12-07', '2026-12-07', status)).toBe(false);
      expect(isBreached('2026-12-07', '2026-12-08', status)).toBe(true);
    }
  });

  test('a resolved complaint is judged by the day it was resolved', () => {
    expect(isBreached('2026-12-07', '2027-02-01', 'resolved', '2026-12-07')).toBe(false);
    expect(isBreached('2026-12-07', '2027-02-01', 'resolved', '2026-12-08')).toBe(true);
    expect(isBreached('2026-12-07', '2027-02-01', 'resolved')).toBe(false);
  });
});
