import type { ServerResponse } from 'node:http';
import type { Server } from 'restify';

/**
 * Graceful shutdown of the HTTP side. `drain()` stops accepting connections, serves the requests
 * already sent on the connections that are open (each answer then closes its connection), waits
 * until none is in flight or the deadline passed, and closes every connection left.
 * Long-lived streams (the agents' event stream) must be ended by their owner first, or they count
 * as in flight until the deadline.
 */
export function trackRequests(server: Server) {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let idle: (() => void) | undefined;
  /** Connections accepted and requests read, so far. */
  let arrivals = 0;

  server.server.on('connection', () => arrivals++);
  server.server.on('request', (_req, res: ServerResponse) => {
    arrivals++;
    inFlight.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.once('close', () => {
      inFlight.delete(res);
      if (inFlight.size === 0) idle?.();
    });
  });

  return {
    get inFlight() {
      return inFlight.size;
    },

    async drain(timeoutMs: number): Promise<{ unfinished: number }> {
      draining = true;
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      // Requests already sent must be in flight before close() below, which drops every
      // connection without one as idle and resets those not yet accepted. A busy process accepts
      // one waiting connection per round of the event loop and reads it in the next: go round
      // until two rounds in a row bring nothing new (within the deadline).
      const deadline = Date.now() + timeoutMs;
      for (let quiet = 0; quiet < 2 && Date.now() < deadline; ) {
        const before = arrivals;
        await new Promise((resolve) => setImmediate(resolve));
        quiet = arrivals === before ? quiet + 1 : 0;
      }
      const closed = new Promise<void>((resolve) => server.server.close(() => resolve()));
      if (inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
          idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const unfinished = inFlight.size;
      server.server.closeAllConnections();
      await closed;
      return { unfinished };
    },
  };
}
