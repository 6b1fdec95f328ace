import { timingSafeEqual, createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import { ErrorCodes } from '../errors/codes.js';
import { ServiceError } from '../errors/serviceError.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Requires `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant
 * time). Without a configured token every admin route answers 403.
 */
export function requireAdmin(adminToken: string | undefined): Middleware {
  const expected = adminToken === undefined ? undefined : digest(adminToken);
  return async (ctx, next) => {
    if (!expected) {
      throw new ServiceError(ErrorCodes.ADMIN_DISABLED, 'admin routes are disabled: set ADMIN_TOKEN to enable them', { status: 403 });
    }
    const m = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new ServiceError(ErrorCodes.ADMIN_UNAUTHORIZED, 'missing or wrong admin token (Authorization: Bearer <ADMIN_TOKEN>)', { status: 401 });
    }
    await next();
  };
}
