import { expect } from 'chai';
import { classifyAddress } from '../../../src/dependencies/browser/addressPolicy.js';
import { createTargetGuard, type Resolver } from '../../../src/dependencies/browser/targetGuard.js';

// Classification only: nothing in this file connects anywhere.

/** Host as a URL spells it → the range it must be refused as. */
const REFUSED: [string, RegExp][] = [
  // Loopback, every spelling WHATWG URL accepts.
  ['127.0.0.1', /loopback/],
  ['127.1', /loopback/],
  ['2130706433', /loopback/],
  ['0x7f.0.0.1', /loopback/],
  ['0177.0.0.1', /loopback/],
  ['127.255.255.254', /loopback/],
  ['[::1]', /loopback/],
  ['[0:0:0:0:0:0:0:1]', /loopback/],
  // RFC 1918.
  ['10.0.0.1', /private/],
  ['10.255.255.255', /private/],
  ['172.16.0.1', /private/],
  ['172.31.255.254', /private/],
  ['192.168.1.1', /private/],
  ['3232235777', /private/],
  // Carrier-grade NAT.
  ['100.64.0.1', /carrierGradeNat/],
  ['100.127.255.254', /carrierGradeNat/],
  // Link-local, the cloud metadata endpoint among them.
  ['169.254.169.254', /linkLocal/],
  ['[fe80::1]', /linkLocal/],
  ['[febf::1]', /linkLocal/],
  // Unique-local IPv6.
  ['[fc00::1]', /uniqueLocal/],
  ['[fd12:3456:789a::1]', /uniqueLocal/],
  // Multicast.
  ['224.0.0.1', /multicast/],
  ['239.255.255.250', /multicast/],
  ['[ff02::1]', /multicast/],
  // Unspecified, broadcast, reserved.
  ['0.0.0.0', /unspecified/],
  ['0.1.2.3', /unspecified/],
  ['[::]', /unspecified/],
  ['255.255.255.255', /broadcast/],
  ['240.0.0.1', /reserved/],
  ['192.0.2.1', /reserved/],
  ['198.18.0.1', /reserved/],
  // IPv4-mapped and -translated.
  ['[::ffff:127.0.0.1]', /ipv4Mapped/],
  ['[::ffff:7f00:1]', /ipv4Mapped/],
  ['[::ffff:169.254.169.254]', /ipv4Mapped/],
  ['[::ffff:93.184.216.34]', /ipv4Mapped/],
  ['[::ffff:0:a00:1]', /rfc6145/],
  // NAT64, 6to4 and Teredo embedding a forbidden IPv4 address.
  ['[64:ff9b::127.0.0.1]', /rfc6052 of loopback/],
  ['[64:ff9b::a9fe:a9fe]', /rfc6052 of linkLocal/],
  ['[64:ff9b:1::1]', /rfc6052/],
  ['[2002:7f00:1::1]', /6to4 of loopback/],
  ['[2002:c0a8:101::1]', /6to4 of private/],
  // Teredo client 192.168.1.1 (stored inverted: 3f57:fefe), server public.
  ['[2001:0:5db8:4e4e::3f57:fefe]', /teredo of private/],
  // Other special IPv6 ranges.
  ['[100::1]', /discard/],
  ['[2001:db8::1]', /reserved|documentation/],
  ['[fec0::1]', /deprecatedSiteLocal/],
];

const ALLOWED = ['93.184.216.34', '8.8.8.8', '1.1.1.1', '[2606:4700::1]', '[2a00:1450:4001:80b::200e]', '[64:ff9b::5db8:d822]', '[2002:5db8:d822::1]', '[2001:0:5db8:4e4e::a247:2bdd]'];

describe('classifyAddress', () => {
  for (const [host, range] of REFUSED) {
    it(`refuses ${host} (${range.source})`, () => {
      // Hosts go through the WHATWG URL parser first, as they do in the guard.
      const verdict = classifyAddress(new URL(`http://${host}/`).hostname);
      expect(verdict.allowed, host).to.equal(false);
      expect(verdict.allowed === false && verdict.range, host).to.match(range);
    });
  }

  for (const host of ALLOWED) {
    it(`allows the public address ${host}`, () => {
      expect(classifyAddress(new URL(`http://${host}/`).hostname)).to.deep.equal({ allowed: true });
    });
  }

  it('refuses a zone-scoped link-local address and throws on a name', () => {
    expect(classifyAddress('fe80::1%eth0').allowed).to.equal(false);
    expect(() => classifyAddress('localhost')).to.throw(TypeError, 'not an IP address');
  });
});

describe('createTargetGuard', () => {
  const resolver = (answers: Record<string, string[]>): Resolver & { asked: string[] } => {
    const asked: string[] = [];
    return Object.assign(
      async (host: string) => {
        asked.push(host);
        return answers[host] ?? [];
      },
      { asked },
    );
  };

  it('refuses from the URL alone a literal forbidden address or the own port, and invalid URLs as invalid', () => {
    const guard = createTargetGuard({ forbiddenPorts: [8080] });
    expect(guard.refusal('http://127.1:3000/')).to.deep.include({ kind: 'forbidden' });
    expect(guard.refusal('http://[::ffff:127.0.0.1]/')).to.deep.include({ kind: 'forbidden' });
    expect(guard.refusal('https://example.com:8080/')).to.deep.include({ kind: 'forbidden' });
    expect(guard.refusal('ftp://example.com/')).to.deep.include({ kind: 'invalid' });
    expect(guard.refusal('no url')).to.deep.include({ kind: 'invalid' });
    // A name is left to vet(): only its addresses tell.
    expect(guard.refusal('http://localhost:3000/')).to.equal(undefined);
    expect(guard.refusal('https://93.184.216.34/')).to.equal(undefined);
  });

  it('vets the resolved addresses: one forbidden address refuses the name; a public one is the address to connect to', async () => {
    const resolve = resolver({ 'rebind.test': ['127.0.0.1'], 'mixed.test': ['93.184.216.34', '10.0.0.7'], 'public.test': ['93.184.216.34', '2606:4700::1'] });
    const guard = createTargetGuard({ forbiddenPorts: [], resolve });
    expect(await guard.vet('rebind.test', 80)).to.deep.equal({ allowed: false, reason: 'rebind.test resolves to 127.0.0.1 is a loopback address (allow it with BROWSER_ALLOW_HOSTS)' });
    expect(await guard.vet('mixed.test', 443)).to.deep.include({ allowed: false });
    expect(await guard.vet('public.test', 443)).to.deep.equal({ allowed: true, address: '93.184.216.34' });
    expect(await guard.vet('nowhere.test', 443)).to.deep.include({ allowed: false });
    expect(await guard.vet('[::1]', 80)).to.deep.include({ allowed: false });
    expect(resolve.asked, 'literal addresses are not resolved').to.deep.equal(['rebind.test', 'mixed.test', 'public.test', 'nowhere.test']);
  });

  it('lets BROWSER_ALLOW_HOSTS entries through by name or by address, on their port only, but never the own port', async () => {
    const resolve = resolver({ 'intranet.test': ['10.1.2.3'], 'alias.test': ['127.0.0.1'] });
    const guard = createTargetGuard({
      forbiddenPorts: [8080],
      allowHosts: [{ host: 'intranet.test' }, { host: '127.0.0.1', port: 5000 }, { host: '[::1]' }],
      resolve,
    });
    expect(await guard.vet('intranet.test', 443)).to.deep.equal({ allowed: true, address: '10.1.2.3' });
    expect(await guard.vet('127.0.0.1', 5000)).to.deep.equal({ allowed: true, address: '127.0.0.1' });
    expect(await guard.vet('alias.test', 5000), 'a name resolving to an allowed address').to.deep.equal({ allowed: true, address: '127.0.0.1' });
    expect(await guard.vet('127.0.0.1', 5001)).to.deep.include({ allowed: false });
    expect(await guard.vet('[::1]', 3000)).to.deep.equal({ allowed: true, address: '::1' });
    expect(await guard.vet('[::1]', 8080)).to.deep.include({ allowed: false });
    expect(await guard.vet('intranet.test', 8080)).to.deep.include({ allowed: false });
    expect(guard.refusal('http://127.0.0.1:5000/')).to.equal(undefined);
    expect(guard.refusal('http://127.0.0.1:5001/')).to.deep.include({ kind: 'forbidden' });
  });
});
