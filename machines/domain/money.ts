import Decimal from 'decimal.js';

/**
 * Decimal money: every component is rounded half-up to 0.01 when computed (CONTRACT.md §5).
 * A private Decimal clone keeps these settings from leaking into other users of decimal.js.
 */
export const Money = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_UP });
export type Money = Decimal;

export const ZERO = new Money(0);

export function money(value: Decimal.Value): Money {
  return new Money(value);
}

/** Rounds half-up to the fen. */
export function roundFen(value: Decimal): Money {
  return new Money(value).toDecimalPlaces(2, Decimal.ROUND_HALF_UP);
}

/** Rounds down to the fen (installment payments, CONTRACT.md §5). */
export function floorFen(value: Decimal): Money {
  return new Money(value).toDecimalPlaces(2, Decimal.ROUND_DOWN);
}

export function fromFen(fen: number): Money {
  return new Money(fen).dividedBy(100);
}

export function toFen(value: Decimal): number {
  return new Money(value).times(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

export function sum(values: readonly Decimal[]): Money {
  return values.reduce<Money>((a, b) => a.plus(b), ZERO);
}

/** "1152.6" -> "1,152.60": two decimals with thousands separators, as replies show amounts. */
export function formatAmount(value: Decimal.Value): string {
  const fixed = new Money(value).toFixed(2);
  const [whole = '0', cents = '00'] = fixed.split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = sign ? whole.slice(1) : whole;
  return `${sign}${digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${cents}`;
}

/** A rate as a percentage with up to 4 decimals: 0.24 -> "24", 0.185 -> "18.5". */
export function formatPercent(rate: Decimal.Value): string {
  return new Money(rate).times(100).toDecimalPlaces(4).toString();
}
