import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { extname, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Request, Response, Server } from 'restify';

/**
 * Serves the borrower page: `/` (index.html), the agent console `/agent` (agent.html), the
 * supervisors' reports `/reports` (reports.html), the product staff's studio `/studio` (studio.html), `/web/*`
 * (files under webRoot) and `/vendor/webchat.js` (put there by scripts/fetch-webchat.mjs). Only
 * known file types, no dotfiles, nothing outside webRoot (symlinks included).
 */
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.css', '.js', '.mjs', '.json', '.txt', '.svg']);

/** Web Chat injects <style> elements (emotion), hence 'unsafe-inline' for styles only. */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' data: blob:",
  "connect-src 'self' blob:", // chat.js reads attached files from their blob: URLs
  // Web Chat makes upload thumbnails in a worker created from a blob: URL.
  "worker-src 'self' blob:",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

interface Cached {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzip?: Buffer | undefined;
  etag: string;
}

export function registerWebPages(server: Server, webRoot: string): void {
  const root = resolve(webRoot);
  // Read once per file version: webchat.js is 3.9 MB (about 1 MB gzipped), worth compressing once.
  const cache = new Map<string, Cached>();
  let realRoot: string | undefined;

  /** Absolute path of a file inside webRoot, or undefined when the request must not be served. */
  const locate = async (relative: string): Promise<string | undefined> => {
    if (relative.includes('\0') || relative.includes('\\')) return undefined;
    const segments = relative.split('/');
    if (segments.some((s) => s === '' || s === '..' || s.startsWith('.'))) return undefined;
    if (!CONTENT_TYPES[extname(relative).toLowerCase()]) return undefined;
    const file = resolve(root, ...segments);
    if (!file.startsWith(root + sep)) return undefined;
    try {
      realRoot ??= await fs.realpath(root);
      const real = await fs.realpath(file);
      if (!real.startsWith(realRoot + sep)) return undefined;
      return (await fs.stat(real)).isFile() ? real : undefined;
    } catch {
      return undefined;
    }
  };

  const load = async (file: string): Promise<Cached> => {
    const st = await fs.stat(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const body = await fs.readFile(file);
    const entry: Cached = {
      mtimeMs: st.mtimeMs,
      size: st.size,
      body,
      gzip: COMPRESSIBLE.has(extname(file).toLowerCase()) && body.length > 1024 ? gzipSync(body) : undefined,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    };
    cache.set(file, entry);
    return entry;
  };

  const serve = async (req: Request, res: Response, relative: string): Promise<void> => {
    const file = await locate(relative);
    if (!file) {
      const missingBundle = relative.startsWith('vendor/') && relative.endsWith('.js');
      res.sendRaw(404, missingBundle ? `web/${relative} is missing: run \`node scripts/fetch-webchat.mjs\`\n` : 'Not found\n', {
        'Content-Type': 'text/plain; charset=utf-8',
      });
      return;
    }
    const entry = await load(file);
    const ext = extname(file).toLowerCase();
    const gzip = entry.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? entry.gzip : undefined;
    const etag = gzip ? entry.etag.replace(/"$/, '-gz"') : entry.etag;
    const headers: Record<string, string | number> = {
      'Content-Type': CONTENT_TYPES[ext]!,
      // Revalidate every time (cheap with the ETag), so a new deployment is picked up at once.
      'Cache-Control': 'no-cache',
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (entry.gzip) headers['Vary'] = 'Accept-Encoding';
    if (gzip) headers['Content-Encoding'] = 'gzip';
    if (ext === '.html') headers['Content-Security-Policy'] = PAGE_CSP;
    if (req.headers['if-none-match'] === etag) {
      res.sendRaw(304, '', headers);
      return;
    }
    const body = gzip ?? entry.body;
    headers['Content-Length'] = body.length;
    res.sendRaw(200, req.method === 'HEAD' ? '' : body, headers);
  };

  for (const method of ['get', 'head'] as const) {
    server[method]('/', async (req, res) => serve(req, res, 'index.html'));
    server[method]('/agent', async (req, res) => serve(req, res, 'agent.html'));
    server[method]('/reports', async (req, res) => serve(req, res, 'reports.html'));
    server[method]('/studio', async (req, res) => serve(req, res, 'studio.html'));
    server[method]('/vendor/mermaid.min.js', async (req, res) => serve(req, res, 'vendor/mermaid.min.js'));
    server[method]('/web/*', async (req, res) => serve(req, res, req.params['*'] ?? ''));
    server[method]('/vendor/webchat.js', async (req, res) => serve(req, res, 'vendor/webchat.js'));
  }
}
