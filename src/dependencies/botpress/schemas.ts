/**
 * Botpress Files API wire format (https://botpress.com/docs/api-reference,
 * `@botpress/client`'s `upsertFile` and `getFile`): the file statuses, the
 * part of a file the actor reads, and the JSON Schemas ajv checks answers
 * against. Only what we rely on is required; Botpress may add fields.
 */

/** Every status a Botpress file goes through. */
export const FILE_STATUSES = [
  'upload_pending',
  'upload_failed',
  'upload_completed',
  'indexing_pending',
  'indexing_failed',
  'indexing_completed',
] as const;

/** One of {@link FILE_STATUSES}. */
export type FileStatus = (typeof FILE_STATUSES)[number];

/** A file as the actor tracks it. */
export interface BotpressFile {
  id: string;
  key: string;
  status: FileStatus;
  /** Why the upload or the indexing failed. */
  failedStatusReason?: string;
}

/** `PUT /v1/files` (upsertFile): the file, plus where to PUT its content. */
export interface UpsertedFile extends BotpressFile {
  /** A pre-signed URL that takes the content in one PUT. */
  uploadUrl: string;
  /** The MIME type the PUT must declare. */
  contentType: string;
}

/** The tags that put a file in a knowledge base (what Botpress Studio sets on its own KB files). */
export function knowledgeBaseTags(kbId: string, title: string): Record<string, string> {
  return { source: 'knowledge-base', kbId, title };
}

const str = { type: 'string' } as const;
const file = {
  type: 'object',
  required: ['id', 'key', 'status'],
  properties: { id: str, key: str, status: { enum: FILE_STATUSES }, failedStatusReason: str },
} as const;

/** Schema of `upsertFile`'s answer, `{ file }`. */
export const upsertFileSchema = {
  type: 'object',
  required: ['file'],
  properties: {
    file: { ...file, required: [...file.required, 'uploadUrl', 'contentType'], properties: { ...file.properties, uploadUrl: str, contentType: str } },
  },
} as const;

/** Schema of a {@link BotpressFile} the owner answered to an instance that forwarded a step. */
export const trackedFileSchema = { ...file, additionalProperties: false } as const;

/** Schema of `getFile`'s answer, `{ file }`. */
export const getFileSchema = { type: 'object', required: ['file'], properties: { file } } as const;
