/**
 * `data:` URLs (RFC 2397), as web chat sends an uploaded file: base64 or percent-encoded. The
 * size is bounded from the text first, so an oversized file is refused before it is decoded.
 */
export type DataUrlResult = { ok: true; bytes: Buffer } | { ok: false; reason: 'badUrl' | 'tooLarge'; detail: string };

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function isDataUrl(url: string): boolean {
  return /^data:/i.test(url);
}

export function decodeDataUrl(url: string, maxBytes: number): DataUrlResult {
  const comma = url.indexOf(',');
  if (!isDataUrl(url) || comma < 0) return { ok: false, reason: 'badUrl', detail: 'not a data: URL' };
  const meta = url.slice('data:'.length, comma);
  const body = url.slice(comma + 1);
  if (/;\s*base64\s*$/i.test(meta)) {
    // Percent-escapes are legal inside a base64 body too (%2B, %3D); whitespace is not data.
    const text = (body.includes('%') ? percentDecode(body).toString('latin1') : body).replace(/\s+/g, '');
    if (!BASE64.test(text) || text.length % 4 === 1) return { ok: false, reason: 'badUrl', detail: 'invalid base64' };
    const size = Math.floor((text.replace(/=+$/, '').length * 3) / 4);
    if (size > maxBytes) return { ok: false, reason: 'tooLarge', detail: `${size} bytes` };
    return { ok: true, bytes: Buffer.from(text, 'base64') };
  }
  // Every decoded byte takes at least one and at most three characters (%XX): too long is too large.
  const encoded = Buffer.byteLength(body);
  if (encoded > 3 * maxBytes) return { ok: false, reason: 'tooLarge', detail: `at least ${Math.ceil(encoded / 3)} bytes` };
  const bytes = percentDecode(body);
  if (bytes.length > maxBytes) return { ok: false, reason: 'tooLarge', detail: `${bytes.length} bytes` };
  return { ok: true, bytes };
}

/** Byte-level percent-decoding: decodeURIComponent would reject bytes that are not UTF-8 (any image). */
function percentDecode(text: string): Buffer {
  const input = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i] as number;
    const hi = byte === 0x25 ? hexValue(input[i + 1]) : -1;
    const lo = hi < 0 ? -1 : hexValue(input[i + 2]);
    if (lo < 0) {
      out[n++] = byte; // a lone "%" stays as it is
    } else {
      out[n++] = hi * 16 + lo;
      i += 2;
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}
