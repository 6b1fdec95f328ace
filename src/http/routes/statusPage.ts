import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Router from '@koa/router';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

// Everything the page loads comes from this origin; no inline script, no external asset.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The folder holding the status page, found from this file's location so it
 * works from `src/` (tsx) and from `dist/src/` (tsc copies no HTML/CSS/JS:
 * it is read from the project's `src/http/statusPage`).
 * @throws Error when no such folder exists.
 */
function statusPageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, 'statusPage'), join(dir, 'src', 'http', 'statusPage')]) {
      if (existsSync(join(candidate, 'index.html'))) return candidate;
    }
    if (dirname(dir) === dir) throw new Error('status page folder (src/http/statusPage) not found');
    dir = dirname(dir);
  }
}

/** One file of the status page: the path it is served at and its content type. */
export interface StatusPageFile {
  file: string;
  route: string;
  type: string;
}

/** The status page's files and their routes (`index.html` at `/`, the rest under `/status/`). */
export function statusPageFiles(dir = statusPageDir()): StatusPageFile[] {
  return readdirSync(dir)
    .sort()
    .flatMap((file) => {
      const type = CONTENT_TYPES[extname(file)];
      return type ? [{ file, route: file === 'index.html' ? '/' : `/status/${file}`, type }] : [];
    });
}

/**
 * `GET /`: the status page; its scripts and style under `/status/`. Static
 * files read once at start, served with an ETag and a strict
 * Content-Security-Policy.
 */
export function mountStatusPage(router: Router): void {
  const dir = statusPageDir();
  for (const { file, route, type } of statusPageFiles(dir)) {
    const body = readFileSync(join(dir, file));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    router.get(route, (ctx) => {
      ctx.set('Cache-Control', 'no-cache');
      ctx.set('ETag', etag);
      ctx.set('Content-Security-Policy', CSP);
      ctx.set('X-Content-Type-Options', 'nosniff');
      ctx.set('Referrer-Policy', 'no-referrer');
      if (ctx.get('if-none-match') === etag) {
        ctx.status = 304;
        return;
      }
      ctx.type = type;
      ctx.body = body;
    });
  }
}
