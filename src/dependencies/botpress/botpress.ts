import type { BotpressSettings } from './settings.js';
import type { DependencyCaller } from '../runtime/caller.js';
import { defineDependency, isRequestObject, type DependencyDefinition } from '../runtime/definition.js';
import { RejectedError } from '../runtime/errors.js';
import { createBotpressFiles, type BotpressFiles } from './files.js';
import { systemClock, waitForIndexing, type PollClock } from './indexing.js';
import { responseValidator } from '../http/responseValidator.js';
import { knowledgeBaseTags, trackedFileSchema, type BotpressFile } from './schemas.js';

const NAME = 'botpress';


/** One step of a knowledge-base upload, as it travels through the actor's mailbox. */
export type BotpressRequest =
  /** Upsert the file by key (indexing on) and PUT its content. */
  | { readonly kind: 'upload'; readonly kbId: string; readonly key: string; readonly title: string; readonly content: Uint8Array; readonly contentType: string }
  /** Read the file's status once. */
  | { readonly kind: 'status'; readonly fileId: string };

/** Options of {@link BotpressHandle.addToKnowledgeBase}. */
export interface KnowledgeBaseFileOptions {
  /**
   * The content's MIME type.
   * @default 'text/plain'
   */
  contentType?: string;
  /**
   * The title the knowledge base shows.
   * @default key
   */
  title?: string;
}

/** A file indexed in a knowledge base. */
export interface KnowledgeBaseFile {
  readonly fileId: string;
  readonly key: string;
  readonly kbId: string;
  readonly status: 'indexing_completed';
  /** Status polls it took. */
  readonly polls: number;
}

/** What handlers use: `deps.botpress.addToKnowledgeBase(kbId, key, content)`. */
export interface BotpressHandle {
  /**
   * Uploads `content` as the file `key` of knowledge base `kbId` (an upsert:
   * the same key again replaces the file, it never adds a second one) with
   * indexing on, then waits until Botpress has indexed it. Each step (the
   * upload, each status poll) is one call through the actor; the waits
   * between polls (500 ms growing 1.5 times up to 4 s) hold no slot.
   * @throws DependencyError: `DEP_REJECTED` (nothing is sent) for an empty
   * argument or a missing token or bot id, and (permanent) when the upload or
   * the indexing failed; `DEP_TIMEOUT` (retriable) when indexing takes longer
   * than `BOTPRESS_INDEX_TIMEOUT_MS`; or the upload's failure.
   */
  addToKnowledgeBase(kbId: string, key: string, content: string | Uint8Array, options?: KnowledgeBaseFileOptions): Promise<KnowledgeBaseFile>;
}

/** Options of {@link botpressDependency} beyond the environment. */
export interface BotpressDependencyOptions {
  /**
   * The clock the indexing wait reads and sleeps on.
   * @default systemClock
   */
  clock?: PollClock;
}

function nonEmpty(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new RejectedError(NAME, `${what} must be a non-empty string`);
  return value;
}

function bytesOf(content: unknown): Uint8Array {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) throw new RejectedError(NAME, 'content must be a non-empty string or Uint8Array');
  return bytes;
}

/**
 * The one set of rules for a step, applied by the handle and again by the
 * owner to a forwarded one.
 * @throws RejectedError naming what is wrong.
 */
function parseRequest(r: unknown): BotpressRequest {
  if (!isRequestObject(r)) throw new RejectedError(NAME, 'the request must be an object');
  const fields = r.kind === 'upload' ? ['kind', 'kbId', 'key', 'title', 'content', 'contentType'] : r.kind === 'status' ? ['kind', 'fileId'] : undefined;
  if (!fields) throw new RejectedError(NAME, 'kind must be upload or status');
  const extra = Object.keys(r).filter((k) => !fields.includes(k));
  if (extra.length > 0) throw new RejectedError(NAME, `unknown fields: ${extra.join(', ')}`);
  if (r.kind === 'status') return { kind: 'status', fileId: nonEmpty('fileId', r.fileId) };
  if (!(r.content instanceof Uint8Array) || r.content.byteLength === 0) throw new RejectedError(NAME, 'content must be non-empty bytes');
  return {
    kind: 'upload',
    kbId: nonEmpty('kbId', r.kbId),
    key: nonEmpty('key', r.key),
    title: nonEmpty('title', r.title),
    content: r.content,
    contentType: nonEmpty('contentType', r.contentType),
  };
}

/** A file the Botpress owner answered, checked against the shape this actor tracks. */
const forwardedFile = responseValidator<BotpressFile>(NAME, 'file', trackedFileSchema);

async function performStep(files: BotpressFiles | undefined, request: BotpressRequest, signal: AbortSignal): Promise<BotpressFile> {
  if (!files) throw new RejectedError(NAME, 'BOTPRESS_TOKEN and BOTPRESS_BOT_ID must be set');
  if (request.kind === 'status') return tracked(await files.getFile(request.fileId, signal));
  const { key, kbId, title, content, contentType } = request;
  const file = await files.upsertFile({ key, size: content.byteLength, index: true, contentType, tags: knowledgeBaseTags(kbId, title) }, signal);
  await files.uploadContent(file, content, signal);
  return tracked(file);
}

/** The part of a file the actor tracks (what it answers another instance, too). */
function tracked(file: BotpressFile): BotpressFile {
  return { id: file.id, key: file.key, status: file.status, ...(file.failedStatusReason === undefined ? {} : { failedStatusReason: file.failedStatusReason }) };
}

/**
 * Defines the Botpress actor: one `@botpress/client` (`apiUrl` =
 * `settings.url`, bearer token, bot id; no client retries) for the Files API.
 * Without `BOTPRESS_TOKEN` or `BOTPRESS_BOT_ID` every call is refused.
 * @throws Error when the installed `@botpress/client` no longer lets the actor abort its calls.
 */
export function botpressDependency(settings: BotpressSettings, options: BotpressDependencyOptions = {}): DependencyDefinition<BotpressHandle> {
  const { url, token, botId, indexTimeoutMs, ...limits } = settings;
  const clock = options.clock ?? systemClock;
  const files =
    token === undefined || botId === undefined ? undefined : createBotpressFiles({ dependency: NAME, apiUrl: url, token, botId, timeoutMs: limits.timeoutMs });
  return defineDependency({
    options: limits,
    parseRequest,
    parseResult: (_request, value) => forwardedFile(value),
    perform: (request: BotpressRequest, { signal }) => performStep(files, request, signal),
    handle: (caller: DependencyCaller<BotpressRequest>): BotpressHandle => ({
      async addToKnowledgeBase(kbId, key, content, opts = {}) {
        if (!files) throw new RejectedError(NAME, 'BOTPRESS_TOKEN and BOTPRESS_BOT_ID must be set');
        const request = parseRequest({ kind: 'upload', kbId, key, title: opts.title ?? key, content: bytesOf(content), contentType: opts.contentType ?? 'text/plain' });
        const uploaded = await caller.call<BotpressFile>(request);
        const poll = (fileId: string) => caller.call<BotpressFile>(parseRequest({ kind: 'status', fileId }));
        const { file, polls } = await waitForIndexing(uploaded, poll, { dependency: NAME, timeoutMs: indexTimeoutMs, clock });
        return { fileId: file.id, key: file.key, kbId, status: 'indexing_completed', polls };
      },
    }),
  });
}
