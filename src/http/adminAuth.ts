import { timingSafeEqual, createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { ErrorCodes } from '../errors/codes.js';
import { ServiceError } from '../errors/serviceError.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

const disabled = () => new ServiceError(ErrorCodes.ADMIN_DISABLED, 'admin routes are disabled: set ADMIN_TOKEN to enable them', { status: 403 });

function unauthorized(ctx: Context): ServiceError {
  ctx.set('WWW-Authenticate', 'Bearer');
  return new ServiceError(ErrorCodes.ADMIN_UNAUTHORIZED, 'missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)', { status: 401 });
}

/**
 * Decides whether a request carries the admin token
 * (`Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time), for
 * routes that answer everyone but show more to the admin.
 * @returns a check answering true for the right token and false for a
 * request without an `Authorization` header. It throws `ADMIN_UNAUTHORIZED`
 * (401) for a wrong or malformed token, and `ADMIN_DISABLED` (403) for any
 * token while ADMIN_TOKEN is unset, so a refused token is never mistaken
 * for an anonymous answer.
 */
export function adminCheck(adminToken: string | undefined): (ctx: Context) => boolean {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  return (ctx) => {
    const header = ctx.get('authorization');
    if (header === '') return false;
    if (!expected) throw disabled();
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) throw unauthorized(ctx);
    return true;
  };
}

/**
 * Requires `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant
 * time). Without a configured token every admin route answers 403.
 */
export function requireAdmin(adminToken: string | undefined): Middleware {
  const isAdmin = adminCheck(adminToken);
  return async (ctx, next) => {
    if (adminToken === undefined) throw disabled();
    if (!isAdmin(ctx)) throw unauthorized(ctx);
    await next();
  };
}
