import { PROJECT_HAIL_MARY } from '../../test/stubs/audnex.js';
import { StubServer, type RecordedCall } from '../../test/stubs/stubServer.js';

/**
 * An Audnex stub that tells the instances apart: each instance's
 * `AUDNEX_URL` is `<stub>/via/<INSTANCE_ID>` ({@link audnexUrlFor}), so
 * every recorded call's path names the instance that sent it. Any valid
 * ASIN is a book (Project Hail Mary under that ASIN); anything else is a 404.
 */
export function startChaosAudnex(): Promise<StubServer> {
  return StubServer.start((method, url) => {
    const [, via, , books, asin, extra] = url.pathname.split('/');
    if (method === 'GET' && via === 'via' && books === 'books' && asin && /^B[0-9A-Z]{9}$/.test(asin) && extra === undefined) {
      return { status: 200, body: { ...PROJECT_HAIL_MARY, asin } };
    }
    return { status: 404, body: { error: { code: 'NOT_FOUND', message: `${url.pathname} not found`, details: null } } };
  });
}

/** The `AUDNEX_URL` of instance `instance`. */
export function audnexUrlFor(stub: StubServer, instance: string): string {
  return `${stub.url}/via/${instance}`;
}

/** The instance that sent `call`. */
export function callerOf(call: RecordedCall): string | undefined {
  const [, via, instance] = call.path.split('/');
  return via === 'via' ? instance : undefined;
}
