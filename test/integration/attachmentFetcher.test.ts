import dns from 'node:dns';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchAttachment, type FetchOptions } from '../../proofs/attachmentFetcher';

/**
 * The downloader against real HTTP servers on 127.0.0.1: what it accepts, and that it cannot be
 * pointed anywhere else (hosts, private addresses, redirects), nor held (size, time).
 */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n', 'latin1');
const ELEVEN_MIB = 11 * 1024 * 1024;

let files: http.Server;
let other: http.Server;
let host: string; // 127.0.0.1:<port> of `files`
let otherHost: string;
const requests: string[] = [];
const otherRequests: string[] = [];

/** writeHead + end without chaining: restify (loaded by another suite in the same jest worker) patches
 *  ServerResponse.prototype.writeHead into one that does not return the response. */
function reply(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders, body?: Buffer | string): void {
  res.writeHead(status, headers);
  res.end(body);
}

function serve(handler: http.RequestListener): Promise<{ server: http.Server; host: string }> {
  const server = http.createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

beforeAll(async () => {
  ({ server: files, host } = await serve((req, res) => {
    requests.push(req.url ?? '');
    switch (req.url) {
      case '/receipt.png':
        return reply(res, 200, { 'content-type': 'image/png' }, PNG);
      case '/statement.pdf':
        return reply(res, 200, { 'content-type': 'application/pdf' }, PDF);
      case '/renamed.png': // text, named and declared as a PNG
        return reply(res, 200, { 'content-type': 'image/png' }, 'I paid, honestly');
      case '/big-declared.png': {
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': ELEVEN_MIB });
        return res.end(Buffer.concat([PNG, Buffer.alloc(ELEVEN_MIB - PNG.length)]));
      }
      case '/big-streamed.png': {
        // No Content-Length (chunked): only counting while reading can stop it.
        res.writeHead(200, { 'content-type': 'image/png' });
        res.write(PNG);
        const chunk = Buffer.alloc(1024 * 1024);
        let sent = 0;
        const more = () => {
          while (sent < 11 && res.write(chunk)) sent++;
          if (sent < 11) res.once('drain', () => (sent++, more()));
          else res.end();
        };
        res.on('error', () => {});
        return more();
      }
      case '/moved':
        return reply(res, 302, { location: '/receipt.png' });
      case '/away-by-name':
        return reply(res, 302, { location: `http://localhost:${host.split(':')[1]}/receipt.png` });
      case '/away-by-port':
        return reply(res, 307, { location: `http://${otherHost}/receipt.png` });
      case '/loop':
        return reply(res, 302, { location: '/loop' });
      case '/slow-headers':
        return; // never answers
      case '/slow-body':
        res.writeHead(200, { 'content-type': 'image/png' });
        return res.write(PNG.subarray(0, 8)); // …and never finishes
      default:
        return reply(res, 404, {});
    }
  }));
  ({ server: other, host: otherHost } = await serve((req, res) => {
    otherRequests.push(req.url ?? '');
    reply(res, 200, { 'content-type': 'image/png' }, PNG);
  }));
});

afterAll(async () => {
  for (const s of [files, other]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

beforeEach(() => {
  requests.length = 0;
  otherRequests.length = 0;
});

const fetchFrom = (path: string, options: Partial<FetchOptions> = {}) => fetchAttachment({ contentUrl: `http://${host}${path}` }, { allowedHosts: [host], ...options });

test('a PNG and a PDF are accepted, typed by their bytes', async () => {
  expect(await fetchFrom('/receipt.png')).toMatchObject({ ok: true, file: { fileType: 'image/png', size: PNG.length, bytes: PNG } });
  expect(await fetchFrom('/statement.pdf')).toMatchObject({ ok: true, file: { fileType: 'application/pdf', bytes: PDF } });
});

test('a text file named and served as .png is refused', async () => {
  expect(await fetchAttachment({ contentUrl: `http://${host}/renamed.png`, contentType: 'image/png', name: 'renamed.png' }, { allowedHosts: [host] })).toMatchObject({
    ok: false,
    reason: 'unsupportedType',
  });
});

test('11 MiB is refused, from the Content-Length and while streaming without one', async () => {
  expect(await fetchFrom('/big-declared.png')).toMatchObject({ ok: false, reason: 'tooLarge', detail: `Content-Length ${ELEVEN_MIB}` });
  expect(await fetchFrom('/big-streamed.png')).toMatchObject({ ok: false, reason: 'tooLarge', detail: expect.stringContaining('more than') });
});

test('a host that is neither the channel’s nor allowed is never contacted', async () => {
  expect(await fetchAttachment({ contentUrl: `http://${otherHost}/receipt.png` }, { allowedHosts: [host], channelHost: 'smba.example.com' })).toMatchObject({ ok: false, reason: 'hostNotAllowed' });
  expect(otherRequests).toEqual([]);
});

test('redirects: on the same host followed, to another host or port refused, loops cut short', async () => {
  expect(await fetchFrom('/moved')).toMatchObject({ ok: true, file: { fileType: 'image/png' } });
  expect(requests).toEqual(['/moved', '/receipt.png']);
  expect(await fetchFrom('/away-by-name')).toMatchObject({ ok: false, reason: 'redirectNotAllowed' });
  expect(await fetchFrom('/away-by-port', { allowedHosts: [host, otherHost] })).toMatchObject({ ok: false, reason: 'redirectNotAllowed' });
  expect(otherRequests).toEqual([]);
  expect(await fetchFrom('/loop')).toMatchObject({ ok: false, reason: 'redirectNotAllowed' });
});

test('a private address is refused when the host is only the channel’s, allowed when the operator listed it', async () => {
  const url = { contentUrl: `http://${host}/receipt.png` };
  expect(await fetchAttachment(url, { allowedHosts: [], channelHost: host })).toMatchObject({ ok: false, reason: 'privateAddress' });
  // By name too: the name is resolved here, and its loopback address refused.
  const byName = { contentUrl: `http://localhost:${host.split(':')[1]}/receipt.png` };
  expect(await fetchAttachment(byName, { allowedHosts: [], channelHost: `localhost:${host.split(':')[1]}` })).toMatchObject({ ok: false, reason: 'privateAddress' });
  expect(requests).toEqual([]);
  expect(await fetchAttachment(url, { allowedHosts: [host] })).toMatchObject({ ok: true });
  expect(await fetchAttachment(url, { allowedHosts: [], channelHost: host, allowPrivateAddresses: true })).toMatchObject({ ok: true });
});

test('the connection goes to the address that was checked: the name is resolved once, by us', async () => {
  // `rebind.test` exists only in this stub; were the name resolved again to connect, it would fail.
  const lookup = jest.spyOn(dns.promises, 'lookup').mockImplementation((async () => [{ address: '127.0.0.1', family: 4 }]) as never);
  try {
    const name = `rebind.test:${host.split(':')[1]}`;
    expect(await fetchAttachment({ contentUrl: `http://${name}/receipt.png` }, { allowedHosts: [name] })).toMatchObject({ ok: true, file: { bytes: PNG } });
    expect(lookup).toHaveBeenCalledTimes(1);
  } finally {
    lookup.mockRestore();
  }
});

test('a server that does not answer, or does not finish, times out', async () => {
  const started = Date.now();
  expect(await fetchFrom('/slow-headers', { timeoutMs: 300 })).toMatchObject({ ok: false, reason: 'timeout' });
  expect(await fetchFrom('/slow-body', { timeoutMs: 300 })).toMatchObject({ ok: false, reason: 'timeout' });
  expect(Date.now() - started).toBeLessThan(3000);
});

test('unreachable: an error status, a closed port, a name that does not resolve', async () => {
  expect(await fetchFrom('/missing.png')).toMatchObject({ ok: false, reason: 'unreachable', detail: 'HTTP 404' });
  const closed = await serve(() => {});
  await new Promise((resolve) => closed.server.close(resolve));
  expect(await fetchAttachment({ contentUrl: `http://${closed.host}/r.png` }, { allowedHosts: [closed.host] })).toMatchObject({ ok: false, reason: 'unreachable' });
  expect(await fetchAttachment({ contentUrl: 'http://no-such-host.invalid/r.png' }, { allowedHosts: ['no-such-host.invalid'] })).toMatchObject({ ok: false, reason: 'unreachable' });
});
