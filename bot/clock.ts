/** The bot's clock: real time, or starting at APP_NOW and running forward from there. */
export type Clock = () => Date;

export function createClock(appNow?: string): Clock {
  if (!appNow) return () => new Date();
  const offset = Date.parse(appNow) - Date.now();
  return () => new Date(Date.now() + offset);
}
