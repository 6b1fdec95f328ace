import { StubServer, type StubAnswer, type StubRequest } from './stubServer.js';

/** A file as the stub stores it. */
export interface StoredFile {
  readonly id: string;
  readonly key: string;
  size: number;
  contentType: string;
  tags: Record<string, string>;
  index: boolean;
  status: 'upload_pending' | 'upload_completed' | 'indexing_pending' | 'indexing_completed' | 'indexing_failed';
  failedStatusReason: string | undefined;
  /** What the upload PUT carried. */
  content: string | undefined;
  /** Status reads since the upload. */
  polls: number;
  /** The signature of the upload URL last handed out. */
  signature: string;
  readonly createdAt: string;
  updatedAt: string;
}

/** Options of {@link startBotpressStub}. */
export interface BotpressStubOptions {
  /** @default 'bp-token' */
  token?: string;
  /** @default 'bot-1' */
  botId?: string;
}

/** A stub of api.botpress.cloud's Files API and of the storage its upload URLs point at. */
export interface BotpressStub {
  readonly server: StubServer;
  /** Files by key: an upsert of a known key updates that file. */
  readonly files: Map<string, StoredFile>;
  /**
   * Status reads after the upload before indexing ends.
   * @default 2
   */
  pollsUntilIndexed: number;
  /** When set, indexing ends as `indexing_failed` with this reason. */
  failIndexing: string | undefined;
  close(): Promise<void>;
}

// Botpress's error body: what @botpress/client's errorFrom parses.
const bpError = (status: number, type: string, message: string): StubAnswer => ({
  status,
  body: { id: `err_stub${Date.now()}`, code: status, type, message },
});

/**
 * Starts a stub of Botpress's Files API as `@botpress/client` calls it:
 * `PUT /v1/files` upserts by key (bearer token and `x-bot-id` required) and
 * returns an `uploadUrl` on this same server; the content PUT to it (with the
 * file's content type and exact size) moves the file to `indexing_pending`;
 * `GET /v1/files/{id}` reports `indexing_completed` (or `indexing_failed`) once
 * it has been read `pollsUntilIndexed` times since.
 */
export async function startBotpressStub(options: BotpressStubOptions = {}): Promise<BotpressStub> {
  const token = options.token ?? 'bp-token';
  const botId = options.botId ?? 'bot-1';
  let seq = 0;
  const byId = (id: string) => [...stub.files.values()].find((f) => f.id === id);
  const wire = (f: StoredFile, withUploadUrl: boolean) => ({
    id: f.id,
    botId,
    key: f.key,
    url: `${server.url}/content/${f.id}`,
    size: f.status === 'upload_pending' ? null : f.size,
    contentType: f.contentType,
    tags: f.tags,
    metadata: {},
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    accessPolicies: [],
    index: f.index,
    status: f.status,
    ...(f.failedStatusReason === undefined ? {} : { failedStatusReason: f.failedStatusReason }),
    owner: { type: 'bot', id: botId },
    ...(withUploadUrl ? { uploadUrl: `${server.url}/upload/${f.id}?X-Amz-Signature=${f.signature}` } : {}),
  });

  const upsert = (request: StubRequest): StubAnswer => {
    let body: { key?: unknown; size?: unknown; index?: unknown; contentType?: unknown; tags?: unknown };
    try {
      body = JSON.parse(request.body) as typeof body;
    } catch {
      return bpError(400, 'InvalidPayload', 'Request body is not valid JSON');
    }
    if (typeof body.key !== 'string' || typeof body.size !== 'number') return bpError(400, 'InvalidPayload', '"key" and "size" are required');
    const now = new Date().toISOString();
    seq += 1;
    const fields = {
      size: body.size,
      contentType: typeof body.contentType === 'string' ? body.contentType : 'application/octet-stream',
      tags: (body.tags ?? {}) as Record<string, string>,
      index: body.index === true,
      status: 'upload_pending' as const,
      failedStatusReason: undefined,
      content: undefined,
      polls: 0,
      signature: `stub${seq}`,
      updatedAt: now,
    };
    const existing = stub.files.get(body.key);
    const file: StoredFile = existing ? Object.assign(existing, fields) : { id: `file_01STUB${String(seq).padStart(4, '0')}`, key: body.key, createdAt: now, ...fields };
    stub.files.set(file.key, file);
    return { status: 200, body: { file: wire(file, true) } };
  };

  const upload = (id: string, url: URL, request: StubRequest): StubAnswer => {
    const file = byId(id);
    if (!file || url.searchParams.get('X-Amz-Signature') !== file.signature) return { status: 403, body: 'SignatureDoesNotMatch' };
    if (request.headers['content-type'] !== file.contentType) return { status: 403, body: 'SignatureDoesNotMatch: Content-Type' };
    if (Buffer.byteLength(request.body) !== file.size) return { status: 400, body: 'IncompleteBody' };
    Object.assign(file, { content: request.body, status: file.index ? 'indexing_pending' : 'upload_completed', polls: 0, updatedAt: new Date().toISOString() });
    return { status: 200, body: '', headers: { etag: `"${file.signature}"` } };
  };

  const read = (id: string): StubAnswer => {
    const file = byId(id);
    if (!file) return bpError(404, 'ResourceNotFound', `File "${id}" doesn't exist`);
    if (file.status === 'indexing_pending') {
      file.polls += 1;
      if (file.polls >= stub.pollsUntilIndexed) {
        file.status = stub.failIndexing === undefined ? 'indexing_completed' : 'indexing_failed';
        file.failedStatusReason = stub.failIndexing;
      }
    }
    return { status: 200, body: { file: wire(file, false) } };
  };

  const routes = (method: string, url: URL, request: StubRequest): StubAnswer => {
    const parts = url.pathname.split('/').slice(1);
    if (parts[0] === 'upload' && parts.length === 2 && method === 'PUT') return upload(parts[1]!, url, request);
    if (parts[0] !== 'v1' || parts[1] !== 'files' || parts.length > 3) return bpError(404, 'MethodNotFound', `${method} ${url.pathname} not found`);
    if (request.headers.authorization !== `Bearer ${token}`) return bpError(401, 'Unauthorized', 'Invalid or expired token');
    if (request.headers['x-bot-id'] !== botId) return bpError(403, 'Forbidden', 'The bot does not belong to this token');
    if (method === 'PUT' && parts.length === 2) return upsert(request);
    if (method === 'GET' && parts.length === 3) return read(decodeURIComponent(parts[2]!));
    return bpError(404, 'MethodNotFound', `${method} ${url.pathname} not found`);
  };

  const server = await StubServer.start(routes);
  const stub: BotpressStub = { server, files: new Map(), pollsUntilIndexed: 2, failIndexing: undefined, close: () => server.close() };
  return stub;
}
