import { createHash } from 'node:crypto';
import { isPublicAddress, matchesAny, parseHostPattern } from '../../proofs/addressPolicy';
import { fetchAttachment } from '../../proofs/attachmentFetcher';
import { decodeDataUrl } from '../../proofs/dataUrl';
import { sniffFileType } from '../../proofs/fileType';

/** The parts of the downloader that need no network: types by bytes, data: URLs, host and address rules. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n', 'latin1');
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]);
const none = { allowedHosts: [] };

describe('file type by bytes', () => {
  test('JPEG, PNG and PDF by their magic numbers', () => {
    expect(sniffFileType(JPEG)).toBe('image/jpeg');
    expect(sniffFileType(PNG)).toBe('image/png');
    expect(sniffFileType(PDF)).toBe('application/pdf');
  });

  test('anything else, however it is named or declared, is not a proof file', async () => {
    expect(sniffFileType(Buffer.from('just text, named receipt.png'))).toBeUndefined();
    expect(sniffFileType(Buffer.from('GIF89a'))).toBeUndefined();
    expect(sniffFileType(PNG.subarray(0, 7))).toBeUndefined(); // a truncated signature
    expect(sniffFileType(Buffer.alloc(0))).toBeUndefined();
    const text = `data:image/png;base64,${Buffer.from('hello').toString('base64')}`;
    expect(await fetchAttachment({ contentUrl: text, contentType: 'image/png', name: 'receipt.png' }, none)).toMatchObject({ ok: false, reason: 'unsupportedType' });
  });
});

describe('data: URLs', () => {
  test('base64: accepted with its type, size and SHA-256', async () => {
    const r = await fetchAttachment({ contentUrl: `data:image/png;base64,${PNG.toString('base64')}` }, none);
    expect(r).toEqual({ ok: true, file: { bytes: PNG, fileType: 'image/png', size: PNG.length, sha256: createHash('sha256').update(PNG).digest('hex') } });
  });

  test('the declared type does not matter, the bytes do', async () => {
    const r = await fetchAttachment({ contentUrl: `data:text/plain;base64,${PDF.toString('base64')}`, contentType: 'text/plain' }, none);
    expect(r).toMatchObject({ ok: true, file: { fileType: 'application/pdf' } });
  });

  test('percent-encoded, including bytes that are not UTF-8', async () => {
    const encoded = [...JPEG].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    expect(await fetchAttachment({ contentUrl: `data:image/jpeg,${encoded}` }, none)).toMatchObject({ ok: true, file: { fileType: 'image/jpeg', bytes: JPEG } });
    expect(await fetchAttachment({ contentUrl: `data:,${encodeURIComponent(PDF.toString('latin1'))}` }, none)).toMatchObject({ ok: true, file: { bytes: PDF } });
  });

  test('base64 with whitespace, percent-escapes or no padding', () => {
    const b64 = PNG.toString('base64');
    expect(decodeDataUrl(`data:image/png;base64,${b64.slice(0, 20)}\n${b64.slice(20)}`, 1000)).toEqual({ ok: true, bytes: PNG });
    expect(decodeDataUrl(`data:image/png;base64,${b64.replace(/\+/g, '%2B').replace(/=/g, '%3D')}`, 1000)).toEqual({ ok: true, bytes: PNG });
    expect(decodeDataUrl(`data:;base64,${Buffer.from('%PDF-x').toString('base64').replace(/=+$/, '')}`, 1000)).toEqual({ ok: true, bytes: Buffer.from('%PDF-x') });
  });

  test('too large: refused from the text, before decoding', async () => {
    const big = Buffer.alloc(11 * 1024 * 1024);
    PNG.copy(big);
    expect(await fetchAttachment({ contentUrl: `data:image/png;base64,${big.toString('base64')}` }, none)).toMatchObject({ ok: false, reason: 'tooLarge' });
    // Exactly at the limit is fine; one byte more is not.
    expect(decodeDataUrl(`data:;base64,${Buffer.alloc(300).toString('base64')}`, 300)).toMatchObject({ ok: true });
    expect(decodeDataUrl(`data:;base64,${Buffer.alloc(301).toString('base64')}`, 300)).toMatchObject({ ok: false, reason: 'tooLarge' });
    expect(decodeDataUrl(`data:,${'%41'.repeat(300)}`, 300)).toMatchObject({ ok: true });
    expect(decodeDataUrl(`data:,${'%41'.repeat(301)}`, 300)).toMatchObject({ ok: false, reason: 'tooLarge' });
  });

  test('malformed', async () => {
    for (const contentUrl of ['data:image/png;base64', 'data:image/png;base64,@@@@', 'data:image/png;base64,AAAAA']) {
      expect(await fetchAttachment({ contentUrl }, none)).toMatchObject({ ok: false, reason: 'badUrl' });
    }
  });
});

describe('URLs refused before any connection', () => {
  test.each([
    [undefined, 'badUrl'],
    ['', 'badUrl'],
    ['not a url', 'badUrl'],
    ['file:///etc/passwd', 'badUrl'],
    ['ftp://files.example.com/r.png', 'badUrl'],
    ['https://user:secret@files.example.com/r.png', 'badUrl'],
    ['https://evil.example.net/r.png', 'hostNotAllowed'],
    ['https://files.example.com:8443/r.png', 'hostNotAllowed'], // the entry has no port: default ports only
    ['http://169.254.169.254/latest/meta-data', 'hostNotAllowed'],
  ])('%s → %s', async (contentUrl, reason) => {
    const r = await fetchAttachment(contentUrl === undefined ? {} : { contentUrl }, { allowedHosts: ['files.example.com'], channelHost: 'smba.example.com' });
    expect(r).toMatchObject({ ok: false, reason });
  });

  test('an allowed host whose address is private is refused unless the operator listed it', async () => {
    // The channel's own host is permitted but not trusted with private addresses.
    expect(await fetchAttachment({ contentUrl: 'http://10.1.2.3:9/r.png' }, { allowedHosts: [], channelHost: '10.1.2.3:9' })).toMatchObject({ ok: false, reason: 'privateAddress' });
    expect(await fetchAttachment({ contentUrl: 'http://[::ffff:127.0.0.1]:9/r.png' }, { allowedHosts: [], channelHost: '[::ffff:127.0.0.1]:9' })).toMatchObject({ ok: false, reason: 'privateAddress' });
    expect(await fetchAttachment({ contentUrl: 'http://0x7f.1:9/r.png' }, { allowedHosts: [], channelHost: '127.0.0.1:9' })).toMatchObject({ ok: false, reason: 'privateAddress' });
  });
});

describe('host patterns', () => {
  const url = (u: string) => new URL(u);
  test('host alone: that host on the default port of either scheme', () => {
    expect(matchesAny(url('https://Files.Example.com/x'), ['files.example.com'])).toBe(true);
    expect(matchesAny(url('http://files.example.com./x'), ['files.example.com'])).toBe(true);
    expect(matchesAny(url('https://files.example.com:444/x'), ['files.example.com'])).toBe(false);
    expect(matchesAny(url('https://sub.files.example.com/x'), ['files.example.com'])).toBe(false);
    expect(matchesAny(url('https://files.example.com.evil.net/x'), ['files.example.com'])).toBe(false);
  });

  test('host:port: exactly that port', () => {
    expect(matchesAny(url('http://127.0.0.1:3978/x'), ['127.0.0.1:3978'])).toBe(true);
    expect(matchesAny(url('http://127.0.0.1:3979/x'), ['127.0.0.1:3978'])).toBe(false);
    expect(matchesAny(url('https://files.example.com/x'), ['files.example.com:443'])).toBe(true);
    expect(matchesAny(url('http://[::1]:8080/x'), ['[0:0::1]:8080'])).toBe(true);
  });

  test('nonsense entries match nothing', () => {
    for (const entry of ['', 'http://x', 'a b', 'host:99999', 'host:0']) expect(parseHostPattern(entry)).toBeUndefined();
  });
});

describe('public addresses', () => {
  test.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])('%s is public', (a) => {
    expect(isPublicAddress(a)).toBe(true);
  });

  test.each([
    '0.0.0.0', '10.0.0.1', '100.64.0.1', '127.0.0.1', '127.255.255.254', '169.254.169.254', '172.16.0.1', '172.31.255.255',
    '192.168.1.1', '192.0.2.1', '198.18.0.1', '198.51.100.1', '203.0.113.1', '224.0.0.1', '255.255.255.255',
    '::', '::1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1', 'fec0::1', 'ff02::1', '2001:db8::1', '2001::1', '100::1',
    '::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a00:1', '::ffff:169.254.169.254', '::127.0.0.1', '64:ff9b::a00:1', '2002:a00:1::1',
    'localhost', 'not-an-ip',
  ])('%s is not', (a) => {
    expect(isPublicAddress(a)).toBe(false);
  });
});
