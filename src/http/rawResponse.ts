import { STATUS_CODES } from 'node:http';
import type { ErrorBody } from './errorHandler.js';

/**
 * A complete HTTP/1.1 error response with the standard JSON error body and
 * `Connection: close`, for writing straight to a socket that never reaches
 * Koa (refused connections, client errors).
 */
export function rawErrorResponse(status: number, code: string, message: string, headers: Record<string, string> = {}): string {
  const body = JSON.stringify({ error: { code, message } } satisfies ErrorBody);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
