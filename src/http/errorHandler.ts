import type { Middleware } from 'koa';
import { isServiceError } from '../errors/serviceError.js';
import { ErrorCodes } from '../errors/codes.js';
import type { Log } from '../log.js';

/** The one JSON shape of every error response. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Codes of the statuses the router answers without a body. */
const routingCodes: Readonly<Record<number, string>> = {
  404: ErrorCodes.HTTP_NOT_FOUND,
  405: ErrorCodes.HTTP_METHOD_NOT_ALLOWED,
  501: ErrorCodes.HTTP_METHOD_NOT_IMPLEMENTED,
};

function routingMessage(status: number, method: string, path: string): string {
  if (status === 405) return `${path} does not take ${method}`;
  if (status === 501) return `no route of this service takes ${method}`;
  return `no route for ${method} ${path}`;
}

/**
 * Maps every error to `{"error": {"code", "message", "details"?}}` with its
 * status, in one place. Messages of unexpected (5xx, non-exposed) errors stay
 * in the log and never reach the client.
 */
export function errorHandler(log: Log): Middleware {
  return async function errorHandler(ctx, next) {
    try {
      await next();
      const code = routingCodes[ctx.status];
      if (code !== undefined && ctx.body == null) {
        const status = ctx.status;
        ctx.body = { error: { code, message: routingMessage(status, ctx.method, ctx.path) } } satisfies ErrorBody;
        // Assigning a body resets an unset status to 200.
        ctx.status = status;
      }
    } catch (e) {
      if (isServiceError(e)) {
        ctx.status = e.status;
        if (e.headers) ctx.set(e.headers);
        const message = e.expose ? e.message : 'internal error';
        ctx.body = { error: { code: e.code, message, ...(e.details === undefined ? {} : { details: e.details }) } } satisfies ErrorBody;
        // Refusals are the API working as documented; only unexpected 5xx are worth a warning.
        if (e.status >= 500 && !e.retriable) log.warn({ err: e, code: e.code, path: ctx.path }, 'request failed');
        else if (e.status >= 500) log.debug({ code: e.code, path: ctx.path, message: e.message }, 'request refused');
        return;
      }
      const status = (e as { status?: number; expose?: boolean }).status;
      if (typeof status === 'number' && status >= 400 && status < 500 && (e as { expose?: boolean }).expose) {
        ctx.status = status;
        const code = status === 405 ? ErrorCodes.HTTP_METHOD_NOT_ALLOWED : status === 404 ? ErrorCodes.HTTP_NOT_FOUND : `HTTP_${status}`;
        ctx.body = { error: { code, message: (e as Error).message } } satisfies ErrorBody;
        return;
      }
      if (ctx.req.destroyed) {
        // The client left, or was cut off for a timeout: there is no one to answer.
        log.debug({ path: ctx.path, message: (e as Error).message }, 'request aborted');
        ctx.status = 400;
        ctx.body = { error: { code: ErrorCodes.HTTP_REQUEST_ABORTED, message: 'the connection closed before the request was read' } } satisfies ErrorBody;
        return;
      }
      log.error({ err: e, path: ctx.path }, 'unexpected error');
      ctx.status = 500;
      ctx.body = { error: { code: ErrorCodes.INTERNAL_ERROR, message: 'internal error' } } satisfies ErrorBody;
    }
  };
}
