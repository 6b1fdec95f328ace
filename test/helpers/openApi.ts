import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { expect } from 'chai';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** The committed openapi.json. */
export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi.json', import.meta.url));
const DOC_ID = 'https://webhook-relay.local/openapi.json';

type Json = Record<string, any>;

/** A response as a test saw it. */
export interface SeenResponse {
  status: number;
  headers: Headers;
  /** The body as text. */
  text: string;
}

/** Reads a fetch response fully. */
export async function seen(res: Response): Promise<SeenResponse> {
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/**
 * Validates real responses against the OpenAPI document with ajv (draft
 * 2020-12, as OpenAPI 3.1): the status must be documented for the
 * operation, the content type must be one it lists, each documented
 * response header must be present and a JSON body must match the schema.
 * The document is added to ajv under an `$id`, so `#/components/...` refs
 * resolve inside it.
 */
export class OpenApiChecker {
  readonly doc: Json;
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });

  constructor(doc: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))) {
    this.doc = doc;
    addFormats(this.ajv);
    this.ajv.addSchema({ ...doc, $id: DOC_ID });
  }

  /** The response object (refs followed) and its JSON pointer in the document. */
  private response(method: string, path: string, status: number): { response: Json; at: string } {
    const operation = this.doc.paths[path]?.[method.toLowerCase()];
    expect(operation, `${method} ${path} is documented`).to.be.an('object');
    let response = operation.responses[String(status)];
    let at = `#/${pointer('paths', path, method.toLowerCase(), 'responses', String(status))}`;
    expect(response, `${method} ${path} documents status ${status}`).to.be.an('object');
    if (response.$ref) {
      at = response.$ref;
      response = this.resolve(response.$ref);
    }
    return { response, at };
  }

  private resolve(ref: string): Json {
    return ref
      .slice(2)
      .split('/')
      .reduce((o: Json, p) => o[p.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
  }

  /** Validates `value` against the schema at `at` (a `#/...` pointer), failing with ajv's errors. */
  validate(at: string, value: unknown, what: string): void {
    const validate = this.ajv.getSchema(`${DOC_ID}${at}`);
    expect(validate, `schema at ${at}`).to.be.a('function');
    const ok = validate!(value);
    expect(ok, `${what} does not match ${at}: ${this.ajv.errorsText(validate!.errors)}\n${JSON.stringify(value).slice(0, 500)}`).to.equal(true);
  }

  /** Whether `value` matches the schema at `at`. */
  matches(at: string, value: unknown): boolean {
    return this.ajv.getSchema(`${DOC_ID}${at}`)!(value) as boolean;
  }

  /** Checks one real response of `method path` (the document's path template) against the document. */
  expectMatches(method: string, path: string, res: SeenResponse): void {
    const { response, at } = this.response(method, path, res.status);
    this.expectMatchesResponse(response, at, res, `${method} ${path} ${res.status}`);
  }

  /** Checks a response against a named `components.responses` entry (answers not tied to one operation: 404, 405). */
  expectMatchesComponent(name: string, res: SeenResponse): void {
    const at = `#/components/responses/${name}`;
    this.expectMatchesResponse(this.resolve(at), at, res, name);
  }

  private expectMatchesResponse(response: Json, at: string, res: SeenResponse, what: string): void {
    for (const name of Object.keys(response.headers ?? {})) {
      expect(res.headers.get(name), `${what}: header ${name}`).to.be.a('string');
    }
    if (!response.content) return;
    const contentType = res.headers.get('content-type') ?? '';
    const base = (t: string) => t.split(';')[0]!.trim().toLowerCase();
    const mediaType = Object.keys(response.content).find((t) => base(t) === base(contentType));
    expect(mediaType, `${what}: content type '${contentType}' is one of ${Object.keys(response.content).join(', ')}`).to.be.a('string');
    if (mediaType !== contentType && mediaType!.includes(';')) expect(contentType.replace(/\s/g, '')).to.equal(mediaType!.replace(/\s/g, ''));
    if (base(mediaType!) !== 'application/json') return;
    this.validate(`${at}/${pointer('content', mediaType!, 'schema')}`, JSON.parse(res.text), what);
  }
}
