import net from 'node:net';

/**
 * Which hosts and addresses the attachment downloader may reach. A borrower controls the
 * attachment URL (and, on an unauthenticated channel, the serviceUrl too), so without these checks
 * the bot could be made to fetch from the lender's internal network or a cloud metadata service.
 */

/** A `host` or `host:port` as written in ATTACHMENT_HOSTS or taken from a serviceUrl. */
export interface HostPattern {
  hostname: string;
  /** Absent: the scheme's default port (80 for http, 443 for https). */
  port?: number;
}

const HOST_PORT = /^(\[[0-9a-f:.]+\]|[^\s:/?#[\]@]+)(?::(\d{1,5}))?$/i;

export function parseHostPattern(text: string): HostPattern | undefined {
  const m = HOST_PORT.exec(text.trim().toLowerCase().replace(/\.$/, ''));
  if (!m?.[1]) return undefined;
  const port = m[2] === undefined ? undefined : Number(m[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  // Written the way URL writes it (IPv6 shortened, IDN in punycode), so the comparison is textual.
  let hostname: string;
  try {
    hostname = new URL(`http://${m[1]}`).hostname;
  } catch {
    return undefined;
  }
  return port === undefined ? { hostname } : { hostname, port };
}

/** `url.hostname` keeps IPv6 brackets and WHATWG-normalises IPv4 forms (0x7f.1 → 127.0.0.1). */
export function urlMatches(url: URL, pattern: HostPattern): boolean {
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const hostname = url.hostname.toLowerCase().replace(/\.$/, '');
  if (hostname !== pattern.hostname) return false;
  return pattern.port === undefined ? url.port === '' : pattern.port === port;
}

export function matchesAny(url: URL, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    const pattern = parseHostPattern(p);
    return pattern !== undefined && urlMatches(url, pattern);
  });
}

/**
 * True for addresses on the public internet. Refused: unspecified, loopback, private (RFC 1918),
 * carrier-grade NAT, link-local, unique-local, multicast, reserved and documentation ranges, and
 * the same behind an IPv6 wrapper (IPv4-mapped, IPv4-compatible, NAT64, 6to4; Teredo entirely).
 */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return isPublicV4(v4Bytes(address));
  if (family === 6) return isPublicV6(v6Bytes(address));
  return false;
}

function v4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

function isPublicV4([a = 0, b = 0, c = 0]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this network, private, loopback, multicast + reserved
  if (a === 100 && b >= 64 && b <= 127) return false; // carrier-grade NAT
  if (a === 169 && b === 254) return false; // link-local (cloud metadata services live here)
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

/** 16 bytes of an IPv6 address (net.isIP has already validated it), including `::` and a trailing dotted quad. */
function v6Bytes(address: string): number[] {
  let text = address.replace(/%.*$/, ''); // zone id
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text)?.[1];
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Bytes(dotted);
    text = text.slice(0, -dotted.length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

function isPublicV6(bytes: number[]): boolean {
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = bytes;
  const zeros = (from: number, to: number) => bytes.slice(from, to).every((b) => b === 0);
  const v4At = (i: number) => bytes.slice(i, i + 4);
  if (zeros(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return isPublicV4(v4At(12)); // ::ffff:a.b.c.d
  if (zeros(0, 12)) return zeros(12, 15) ? false : isPublicV4(v4At(12)); // ::, ::1, deprecated ::a.b.c.d
  if (b0 === 0x00 && b1 === 0x64 && b2 === 0xff && b3 === 0x9b) return isPublicV4(v4At(12)); // NAT64 64:ff9b::/96
  if (b0 === 0x20 && b1 === 0x02) return isPublicV4(v4At(2)); // 6to4 2002::/16
  if (b0 === 0x20 && b1 === 0x01 && b2 === 0x00 && b3 === 0x00) return false; // Teredo 2001::/32: tunnels to anywhere
  if (b0 === 0x20 && b1 === 0x01 && b2 === 0x0d && b3 === 0xb8) return false; // documentation 2001:db8::/32
  if (b0 === 0x01 && b1 === 0x00 && zeros(2, 8)) return false; // discard 100::/64
  if ((b0 & 0xfe) === 0xfc) return false; // unique-local fc00::/7
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return false; // link-local fe80::/10
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return false; // site-local fec0::/10 (deprecated)
  if (b0 === 0xff) return false; // multicast
  return true;
}
