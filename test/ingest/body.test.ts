import { expect } from 'chai';
import { isJsonContentType, parseJsonBody } from '../../src/ingest/body.js';

describe('isJsonContentType', () => {
  it('accepts application/json with or without a UTF-8 charset', () => {
    expect(isJsonContentType('application/json')).to.equal(true);
    expect(isJsonContentType('application/json; charset=utf-8')).to.equal(true);
    expect(isJsonContentType('Application/JSON; charset="UTF-8"')).to.equal(true);
    expect(isJsonContentType('application/vnd.github+json')).to.equal(true);
  });

  it('refuses other types and other charsets', () => {
    expect(isJsonContentType(undefined)).to.equal(false);
    expect(isJsonContentType('text/plain')).to.equal(false);
    expect(isJsonContentType('application/x-www-form-urlencoded')).to.equal(false);
    expect(isJsonContentType('application/json; charset=latin1')).to.equal(false);
  });
});

describe('parseJsonBody', () => {
  const code = (b: Buffer) => {
    try {
      parseJsonBody(b);
      return 'ok';
    } catch (e) {
      return (e as { code: string }).code;
    }
  };

  it('parses UTF-8 JSON', () => {
    expect(parseJsonBody(Buffer.from('{"name":"café"}'))).to.deep.equal({ name: 'café' });
  });

  it('refuses invalid UTF-8 with INGEST_INVALID_UTF8', () => {
    expect(code(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))).to.equal('INGEST_INVALID_UTF8');
  });

  it('refuses malformed and empty JSON with INGEST_MALFORMED_JSON', () => {
    expect(code(Buffer.from('{"a":'))).to.equal('INGEST_MALFORMED_JSON');
    expect(code(Buffer.alloc(0))).to.equal('INGEST_MALFORMED_JSON');
  });
});
