import { expect } from 'chai';
import { kvKey, naturalKey } from '../../src/store/kvKey.js';

describe('kvKey', () => {
  it('keeps KV-safe keys readable and encodes the rest reversibly', () => {
    expect(kvKey('TEST-1')).to.equal('TEST-1');
    expect(kvKey('B08G9PRS1K')).to.equal('B08G9PRS1K');
    const url = 'https://example.com/a?b=c';
    expect(kvKey(url)).to.match(/^b64\.[A-Za-z0-9_-]+$/);
    expect(naturalKey(kvKey(url))).to.equal(url);
    expect(naturalKey(kvKey('b64.trick'))).to.equal('b64.trick');
  });
});
