import type { DependenciesConfig } from '../src/config/dependencies.js';
import type { DependencyCaller } from '../src/runtime/caller.js';
import { defineDependency, isRequestObject, type DependencyDefinition } from '../src/runtime/definition.js';
import { RejectedError } from '../src/runtime/errors.js';
import { createBotpressFiles, type BotpressFiles } from './botpressFiles.js';
import { systemClock, waitForIndexing, type PollClock } from './botpressIndexing.js';
import { knowledgeBaseTags, type BotpressFile } from './botpressSchemas.js';

const NAME = 'botpress';

/** `BOTPRESS_*` settings. */
export type BotpressSettings = DependenciesConfig['botpress'];

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

async function performStep(files: BotpressFiles | undefined, request: BotpressRequest, signal: AbortSignal): Promise<BotpressFile> {
  if (!files) throw new RejectedError(NAME, 'BOTPRESS_TOKEN and BOTPRESS_BOT_ID must be set');
  if (request.kind === 'status') return files.getFile(request.fileId, signal);
  const { key, kbId, title, content, contentType } = request;
  const file = await files.upsertFile({ key, size: content.byteLength, index: true, contentType, tags: knowledgeBaseTags(kbId, title) }, signal);
  await files.uploadContent(file, content, signal);
  return { id: file.id, key: file.key, status: file.status, failedStatusReason: file.failedStatusReason };
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
    accepts: (r) => isRequestObject(r) && ((r.kind === 'upload' && r.content instanceof Uint8Array && typeof r.kbId === 'string' && typeof r.key === 'string') || (r.kind === 'status' && typeof r.fileId === 'string')),
    perform: (request: BotpressRequest, { signal }) => performStep(files, request, signal),
    handle: (caller: DependencyCaller<BotpressRequest>): BotpressHandle => ({
      async addToKnowledgeBase(kbId, key, content, opts = {}) {
        if (!files) throw new RejectedError(NAME, 'BOTPRESS_TOKEN and BOTPRESS_BOT_ID must be set');
        const request: BotpressRequest = {
          kind: 'upload',
          kbId: nonEmpty('kbId', kbId),
          key: nonEmpty('key', key),
          title: nonEmpty('title', opts.title ?? key),
          content: bytesOf(content),
          contentType: nonEmpty('contentType', opts.contentType ?? 'text/plain'),
        };
        const uploaded = await caller.call<BotpressFile>(request);
        const poll = (fileId: string) => caller.call<BotpressFile>({ kind: 'status', fileId });
        const { file, polls } = await waitForIndexing(uploaded, poll, { dependency: NAME, timeoutMs: indexTimeoutMs, clock });
        return { fileId: file.id, key: file.key, kbId: request.kbId, status: 'indexing_completed', polls };
      },
    }),
  });
}
