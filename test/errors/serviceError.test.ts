import { expect } from 'chai';
import { ErrorCodes } from '../../src/errors/codes.js';
import { ServiceError, isServiceError } from '../../src/errors/serviceError.js';
import { refuse } from '../../src/errors/ingestError.js';

describe('ServiceError', () => {
  it('defaults to status 500, hidden from clients, not retriable', () => {
    const e = new ServiceError(ErrorCodes.INTERNAL_ERROR, 'the disk is on fire');
    expect(e).to.be.instanceOf(Error);
    expect(e).to.deep.include({ name: 'ServiceError', code: 'INTERNAL_ERROR', status: 500, expose: false, retriable: false, message: 'the disk is on fire' });
    expect(e.details).to.equal(undefined);
    expect(e.headers).to.equal(undefined);
    expect('cause' in e, 'no cause property when none is given').to.equal(false);
  });

  it('exposes a 4xx message by default and keeps a 5xx one hidden unless told', () => {
    expect(new ServiceError('X', 'bad input', { status: 400 }).expose).to.equal(true);
    expect(new ServiceError('X', 'bad input', { status: 499 }).expose).to.equal(true);
    expect(new ServiceError('X', 'overloaded', { status: 503 }).expose).to.equal(false);
    expect(new ServiceError('X', 'overloaded', { status: 503, expose: true }).expose).to.equal(true);
    expect(new ServiceError('X', 'secret detail', { status: 404, expose: false }).expose).to.equal(false);
  });

  it('passes cause, details, headers and retriable through', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new ServiceError('X', 'down', { status: 503, retriable: true, cause, details: { attempt: 2 }, headers: { 'Retry-After': '5' } });
    expect(e.cause).to.equal(cause);
    expect(e).to.deep.include({ retriable: true, details: { attempt: 2 }, headers: { 'Retry-After': '5' } });
  });
});

describe('isServiceError', () => {
  it('recognises ServiceErrors and their subclasses', () => {
    expect(isServiceError(new ServiceError('X', 'm'))).to.equal(true);
    expect(isServiceError(refuse.malformedJson('unexpected end'))).to.equal(true);
  });

  it('recognises one from another copy of the module by its shape, as instanceof would not', () => {
    const foreign = Object.assign(new Error('from elsewhere'), { code: 'INGEST_BODY_TOO_LARGE', status: 413, retriable: false });
    expect(isServiceError(foreign)).to.equal(true);
  });

  it('refuses plain errors, Node system errors and values without the whole shape', () => {
    const systemError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', errno: -111 });
    for (const value of [new Error('x'), systemError, null, undefined, 'INTERNAL_ERROR', 42, { code: 'X', status: '500', retriable: false }, { code: 'X', status: 500 }]) {
      expect(isServiceError(value), JSON.stringify(value) ?? 'undefined').to.equal(false);
    }
  });
});

describe('ErrorCodes', () => {
  it('maps every code to itself, so the key is the wire string', () => {
    for (const [key, value] of Object.entries(ErrorCodes)) expect(value).to.equal(key);
  });

  it('names every code in upper snake case under a known area prefix', () => {
    const prefixes = ['INGEST', 'HTTP', 'NATS', 'OPS', 'SERVICE', 'WEBHOOK', 'DEAD_LETTER', 'ADMIN', 'INTERNAL', 'CONFIG', 'DEP', 'PROCESSING'];
    for (const code of Object.values(ErrorCodes)) {
      expect(code).to.match(/^[A-Z]+(_[A-Z0-9]+)*$/);
      expect(prefixes.some((p) => code.startsWith(p)), code).to.equal(true);
    }
  });
});

describe('refuse (ingest refusals)', () => {
  it('gives each refusal its documented status, code and exposure', () => {
    const table = [
      [refuse.unknownSource('nope', ['orders']), 404, 'INGEST_UNKNOWN_SOURCE'],
      [refuse.unsupportedMediaType('text/plain'), 415, 'INGEST_UNSUPPORTED_MEDIA_TYPE'],
      [refuse.bodyTooLarge(1024), 413, 'INGEST_BODY_TOO_LARGE'],
      [refuse.invalidUtf8(), 400, 'INGEST_INVALID_UTF8'],
      [refuse.malformedJson('x'), 400, 'INGEST_MALFORMED_JSON'],
      [refuse.schemaInvalid('orders', []), 422, 'INGEST_SCHEMA_INVALID'],
      [refuse.signatureMissing(['webhook-signature']), 401, 'INGEST_SIGNATURE_MISSING'],
      [refuse.signatureInvalid(), 401, 'INGEST_SIGNATURE_INVALID'],
      [refuse.streamUnavailable('timeout'), 503, 'INGEST_STREAM_UNAVAILABLE'],
      [refuse.rateLimited(3), 429, 'INGEST_RATE_LIMITED'],
    ] as const;
    for (const [error, status, code] of table) {
      expect(error, code).to.deep.include({ status, code, expose: true });
      expect(Object.values(ErrorCodes), code).to.include(error.code);
    }
  });

  it('marks the stream and rate refusals retriable, with a Retry-After', () => {
    for (const error of [refuse.streamUnavailable('timeout'), refuse.streamRefused('full', 10077), refuse.rateLimited(3)]) {
      expect(error.retriable, error.code).to.equal(true);
      expect(error.headers?.['Retry-After'], error.code).to.match(/^\d+$/);
    }
    expect(refuse.signatureInvalid().retriable).to.equal(false);
  });
});
