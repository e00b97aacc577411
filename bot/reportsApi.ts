import type { Request, Response, Server } from 'restify';
import type { Db } from '../db/client';
import { buildReport, reportRangeSchema, reportToCsv, type ReportRange } from '../db/reports';
import type { Logger } from './logger';
import type { StaffIdentity, StaffRole } from './staffAuth';

/**
 * Supervisors' reports (db/reports.ts), for a range of local dates in the lender's time zone:
 *   GET /api/reports?from=YYYY-MM-DD&to=YYYY-MM-DD       JSON
 *   GET /api/reports.csv?from=YYYY-MM-DD&to=YYYY-MM-DD   CSV (a download)
 * Supervisors only; bad or missing dates are answered 400 with every problem.
 */
export interface ReportsApiDeps {
  db: Db;
  /** Answers 401/403 itself and returns undefined when the request may not proceed. */
  authorize: (req: Request, res: Response, roles: StaffRole[]) => Promise<StaffIdentity | undefined>;
  clock: () => Date;
  timeZone: string;
  logger: Logger;
}

function sendJson(res: Response, status: number, body: unknown): void {
  res.sendRaw(status, JSON.stringify(body), { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
}

export function registerReportsApi(server: Server, deps: ReportsApiDeps): void {
  const { db, clock, timeZone, logger } = deps;

  const route =
    (handler: (res: Response, range: ReportRange) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        if (!(await deps.authorize(req, res, ['supervisor']))) return;
        const query = Object.fromEntries(new URL(req.url ?? '/', 'http://local').searchParams);
        const parsed = reportRangeSchema.safeParse(query);
        if (!parsed.success) {
          const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`);
          sendJson(res, 400, { error: 'invalid_request', message: problems.join('; '), problems });
          return;
        }
        await handler(res, { from: parsed.data.from, to: parsed.data.to });
      } catch (e) {
        logger.error({ err: e, path: req.getPath() }, 'reports API failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'something went wrong on our side' });
      }
    };

  server.get(
    '/api/reports',
    route(async (res, range) => sendJson(res, 200, await buildReport(db, range, { timeZone, now: clock() }))),
  );
  server.get(
    '/api/reports.csv',
    route(async (res, range) => {
      const csv = reportToCsv(await buildReport(db, range, { timeZone, now: clock() }));
      res.sendRaw(200, csv, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="report-${range.from}-${range.to}.csv"`,
        'Cache-Control': 'no-store',
      });
    }),
  );
}
