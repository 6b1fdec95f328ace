import type { IncomingMessage } from 'node:http';
import { refuse } from '../errors/ingestError.js';

/**
 * Reads a request body up to `limit` bytes. A declared Content-Length over the
 * limit is refused before reading; a body that grows past it stops being read
 * at once (the connection is then closed, see `Connection: close`).
 * @throws IngestError INGEST_BODY_TOO_LARGE
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.pause();
    return Promise.reject(refuse.bodyTooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(refuse.bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onAborted = () => onError(new Error('request aborted'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Decodes UTF-8 strictly and parses JSON.
 * @throws IngestError INGEST_INVALID_UTF8 or INGEST_MALFORMED_JSON
 */
export function parseJsonBody(body: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw refuse.invalidUtf8();
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw refuse.malformedJson(body.length === 0 ? 'the body is empty' : (e as Error).message);
  }
}

/** Whether a Content-Type names JSON (`application/json` or `application/*+json`) in UTF-8. */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.toLowerCase().split(';');
  const mime = type!.trim();
  if (mime !== 'application/json' && !(mime.startsWith('application/') && mime.endsWith('+json'))) return false;
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim());
    if (k === 'charset' && v !== undefined && v.replace(/"/g, '') !== 'utf-8' && v.replace(/"/g, '') !== 'utf8') return false;
  }
  return true;
}
