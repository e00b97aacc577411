// Minimal types for restify 12, which ships none (@types/restify is for 8.x). Only what this
// project uses; extend here rather than casting at call sites.
declare module 'restify' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { AddressInfo } from 'node:net';

  /** restify 12 logs through pino; only the methods we call. */
  interface Logger {
    error(obj: unknown, msg?: string): void;
    warn(obj: unknown, msg?: string): void;
    info(obj: unknown, msg?: string): void;
    debug(obj: unknown, msg?: string): void;
  }

  interface Request extends IncomingMessage {
    /** Set by bodyParser. */
    body?: unknown;
    /** Set by queryParser (an object unless `mapParams`/parser options change it). */
    query?: unknown;
    params: Record<string, string | undefined>;
    log: Logger;
    getPath(): string;
    href(): string;
    header(name: string, defaultValue?: string): string | undefined;
    contentType(): string;
  }

  interface Response extends ServerResponse {
    send(code?: number, body?: unknown, headers?: Record<string, string>): void;
    sendRaw(code: number, body: string | Buffer, headers?: Record<string, string | number>): void;
    json(code: number, body: unknown, headers?: Record<string, string>): void;
    header(name: string, value: string | number): void;
    status(code: number): number;
  }

  type Next = (err?: unknown) => void;
  /** At registration restify rejects anything but `async (req, res)` or `(req, res, next)`;
   *  a single signature here so handler parameters are typed from context. */
  type RequestHandler = (req: Request, res: Response, next: Next) => unknown;

  type RouteSpec = string | { path: string; name?: string };

  interface Server {
    readonly url: string;
    readonly server: import('node:http').Server;
    get(route: RouteSpec, ...handlers: RequestHandler[]): unknown;
    head(route: RouteSpec, ...handlers: RequestHandler[]): unknown;
    post(route: RouteSpec, ...handlers: RequestHandler[]): unknown;
    put(route: RouteSpec, ...handlers: RequestHandler[]): unknown;
    patch(route: RouteSpec, ...handlers: RequestHandler[]): unknown;
    del(route: RouteSpec, ...handlers: RequestHandler[]): unknown;
    opts(route: RouteSpec, ...handlers: RequestHandler[]): unknown;
    use(...handlers: Array<RequestHandler | RequestHandler[]>): Server;
    pre(...handlers: Array<RequestHandler | RequestHandler[]>): Server;
    on(event: string, listener: (...args: any[]) => void): Server;
    listen(port: number, host?: string, callback?: () => void): unknown;
    listen(port: number, callback?: () => void): unknown;
    close(callback?: () => void): unknown;
    address(): AddressInfo;
  }

  interface ServerOptions {
    name?: string;
    log?: unknown;
    handleUncaughtExceptions?: boolean;
    ignoreTrailingSlash?: boolean;
    strictFormatters?: boolean;
    maxParamLength?: number;
  }

  function createServer(options?: ServerOptions): Server;

  namespace plugins {
    function bodyParser(options?: {
      maxBodySize?: number;
      mapParams?: boolean;
      mapFiles?: boolean;
      rejectUnknown?: boolean;
      requestBodyOnGet?: boolean;
    }): RequestHandler[];
    function queryParser(options?: { mapParams?: boolean }): RequestHandler;
    function acceptParser(accepts: string[]): RequestHandler;
    namespace pre {
      function sanitizePath(): RequestHandler;
    }
  }
}
