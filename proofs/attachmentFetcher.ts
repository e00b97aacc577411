import { createHash } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isPublicAddress, matchesAny } from './addressPolicy';
import { decodeDataUrl, isDataUrl } from './dataUrl';
import { sniffFileType, type ProofFileType } from './fileType';

/**
 * Gets a proof-of-payment attachment: a `data:` URL, or an http(s) URL on the channel's own host
 * or a configured ATTACHMENT_HOSTS entry. The URL comes from the borrower's side, so the download
 * must not be usable to reach anything else:
 * - the host must be permitted before anything is sent;
 * - its addresses are resolved here and must be public, unless the operator listed the host
 *   (the channel's own host gets no such exemption: on an unauthenticated channel the sender
 *   chooses the serviceUrl too);
 * - the connection goes to exactly the addresses checked (a pinned `lookup`), so DNS cannot
 *   answer differently between the check and the connect;
 * - redirects only to the same permitted host[:port] (http → https on default ports is fine),
 *   checked again from the start;
 * - a Content-Length over the limit is refused before reading, and the limit is enforced while
 *   streaming for responses that do not declare one (or lie);
 * - one timeout covers resolution, redirects and the whole body.
 * node:http/https rather than fetch: fetch offers no hook for the address it connects to.
 */
export type FetchRefusal = 'badUrl' | 'hostNotAllowed' | 'privateAddress' | 'unreachable' | 'timeout' | 'tooLarge' | 'unsupportedType' | 'redirectNotAllowed';

export interface FetchedFile {
  bytes: Buffer;
  sha256: string;
  fileType: ProofFileType;
  size: number;
}

export interface FetchOptions {
  /** host[:port] of the activity's serviceUrl. */
  channelHost?: string;
  /** ATTACHMENT_HOSTS: host or host:port. */
  allowedHosts: readonly string[];
  maxBytes?: number;
  timeoutMs?: number;
  allowPrivateAddresses?: boolean;
}

export type FetchResult = { ok: true; file: FetchedFile } | { ok: false; reason: FetchRefusal; detail?: string };

export const MAX_PROOF_BYTES = 10 * 1024 * 1024;
export const FETCH_TIMEOUT_MS = 10_000;
const MAX_REDIRECTS = 3;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export async function fetchAttachment(attachment: { contentUrl?: string; contentType?: string; name?: string }, options: FetchOptions): Promise<FetchResult> {
  const maxBytes = options.maxBytes ?? MAX_PROOF_BYTES;
  const url = attachment.contentUrl?.trim();
  if (!url) return refuse('badUrl', 'no contentUrl');
  if (isDataUrl(url)) {
    const decoded = decodeDataUrl(url, maxBytes);
    return decoded.ok ? identify(decoded.bytes) : decoded;
  }
  let start: URL;
  try {
    start = new URL(url);
  } catch {
    return refuse('badUrl', 'not a URL');
  }
  if (start.protocol !== 'http:' && start.protocol !== 'https:') return refuse('badUrl', `scheme ${start.protocol} not supported`);
  if (start.username || start.password) return refuse('badUrl', 'credentials in URL');

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? FETCH_TIMEOUT_MS);
  try {
    const bytes = await download(start, options, maxBytes, controller.signal);
    return Buffer.isBuffer(bytes) ? identify(bytes) : bytes;
  } catch (e) {
    if (controller.signal.aborted) return refuse('timeout', `no complete answer within ${options.timeoutMs ?? FETCH_TIMEOUT_MS} ms`);
    return refuse('unreachable', (e as NodeJS.ErrnoException).code ?? (e as Error).message);
  } finally {
    clearTimeout(timer);
  }
}

function refuse(reason: FetchRefusal, detail?: string): FetchResult {
  return detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };
}

function identify(bytes: Buffer): FetchResult {
  const fileType = sniffFileType(bytes);
  if (!fileType) return refuse('unsupportedType', 'not a JPEG, PNG or PDF file');
  return { ok: true, file: { bytes, fileType, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') } };
}

/** The body, or a refusal; throws on network errors and on abort. */
async function download(start: URL, options: FetchOptions, maxBytes: number, signal: AbortSignal): Promise<Buffer | FetchResult> {
  let url = start;
  for (let redirects = 0; ; redirects++) {
    const target = await checkTarget(url, options, signal);
    if (!Array.isArray(target)) return target;
    const response = await get(url, target, signal);
    const status = response.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      response.destroy();
      const next = redirectTarget(url, response.headers.location);
      if (!next || redirects >= MAX_REDIRECTS || next.host !== url.host || !isPermitted(next, options)) {
        return refuse('redirectNotAllowed', next ? `to ${next.host}` : 'no usable Location');
      }
      url = next;
      continue;
    }
    if (status !== 200) {
      response.destroy();
      return refuse('unreachable', `HTTP ${status}`);
    }
    const declared = Number(response.headers['content-length']);
    if (declared > maxBytes) {
      response.destroy();
      return refuse('tooLarge', `Content-Length ${declared}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        response.destroy();
        return refuse('tooLarge', `more than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  }
}

function isPermitted(url: URL, options: FetchOptions): boolean {
  return matchesAny(url, options.allowedHosts) || (options.channelHost !== undefined && matchesAny(url, [options.channelHost]));
}

function redirectTarget(from: URL, location: string | undefined): URL | undefined {
  if (!location) return undefined;
  try {
    const next = new URL(location, from);
    return next.protocol === 'http:' || next.protocol === 'https:' ? next : undefined;
  } catch {
    return undefined;
  }
}

/** The addresses to connect to, every one of them checked; or why not. */
async function checkTarget(url: URL, options: FetchOptions, signal: AbortSignal): Promise<dns.LookupAddress[] | FetchResult> {
  if (!isPermitted(url, options)) return refuse('hostNotAllowed', url.host);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = net.isIP(hostname);
  let addresses: dns.LookupAddress[];
  try {
    addresses = literal ? [{ address: hostname, family: literal }] : await abortable(dns.promises.lookup(hostname, { all: true, verbatim: true }), signal);
  } catch (e) {
    if (signal.aborted) throw e;
    return refuse('unreachable', `cannot resolve ${hostname}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const exempt = options.allowPrivateAddresses === true || matchesAny(url, options.allowedHosts);
  const refused = exempt ? undefined : addresses.find((a) => !isPublicAddress(a.address));
  if (refused) return refuse('privateAddress', `${hostname} resolves to ${refused.address}`);
  if (addresses.length === 0) return refuse('unreachable', `${hostname} has no address`);
  return addresses;
}

function get(url: URL, addresses: dns.LookupAddress[], signal: AbortSignal): Promise<http.IncomingMessage> {
  const first = addresses[0] as dns.LookupAddress;
  // Only these addresses, never a second resolution (net calls this for names, not IP literals).
  const lookup: net.LookupFunction = (_host, opts, callback) => (opts.all ? callback(null, addresses) : callback(null, first.address, first.family));
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'GET',
        agent: false, // a pooled socket could have been opened to another address
        lookup,
        signal,
        headers: { accept: 'image/jpeg, image/png, application/pdf', 'accept-encoding': 'identity', 'user-agent': 'repayment-assistant' },
      },
      resolve,
    );
    request.on('error', reject);
    request.end();
  });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
