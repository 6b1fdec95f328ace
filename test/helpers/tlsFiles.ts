import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a test PKI, by path. */
export interface TlsFiles {
  /** The CA that signed the server and client certificates. */
  caCert: string;
  /** The server's certificate (for 127.0.0.1 and localhost) and key. */
  serverCert: string;
  serverKey: string;
  /** A client certificate the CA signed, for mutual TLS, and its key. */
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: a client trusting only it must refuse the server. */
  otherCaCert: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir, timeout: 30_000 });
}

/** A self-signed CA: `<name>.pem` and `<name>-key.pem`. */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`);
}

/** A certificate signed by CA `ca`, with `extensions` (subjectAltName, extendedKeyUsage). */
async function makeSigned(dir: string, name: string, ca: string, extensions: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`);
  await openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

/**
 * Makes a CA, a server certificate for loopback, a client certificate and a
 * second, unrelated CA with the `openssl` binary, in `dir`.
 */
export async function makeTlsFiles(dir: string): Promise<TlsFiles> {
  await makeCa(dir, 'ca');
  await makeCa(dir, 'other-ca');
  await makeSigned(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await makeSigned(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
  const at = (file: string) => join(dir, file);
  return {
    caCert: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server-key.pem'),
    clientCert: at('client.pem'),
    clientKey: at('client-key.pem'),
    otherCaCert: at('other-ca.pem'),
  };
}
