import { createServer, type Server } from 'node:net';
import { ConfigError } from '../config/parse.js';

/** Why a listen failed, for the errors a restart cannot fix. */
const unusable: Readonly<Record<string, { variable: 'PORT' | 'HOST'; reason: string }>> = {
  EADDRINUSE: { variable: 'PORT', reason: 'is already in use by another process' },
  EACCES: { variable: 'PORT', reason: 'needs privileges this process does not have' },
  EADDRNOTAVAIL: { variable: 'HOST', reason: 'is not an address of this machine' },
};

/**
 * Starts `server` (an HTTP server or any `net.Server`) listening on
 * `host:port` and resolves once it listens; without `host`, on every interface.
 * @throws ConfigError naming `PORT` (taken, privileged) or `HOST` (not a
 * local address) when the address cannot be used; other errors as they come.
 */
export async function listenOn(server: Server, port: number, host: string | undefined): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = unusable[err.code ?? ''];
      if (!why) return reject(err);
      const where = host ?? 'every interface';
      const subject = why.variable === 'PORT' ? `${port} on HOST ${where}` : `${where} (PORT ${port})`;
      reject(new ConfigError(why.variable, `${subject} ${why.reason} (${err.code})`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Checks that `host:port` can be listened on now, by listening and closing
 * again: lets a process that will listen later (node:cluster workers) stop
 * at once with a clear message instead.
 * @throws ConfigError as {@link listenOn} does.
 */
export async function assertListenable(port: number, host: string | undefined): Promise<void> {
  const probe = createServer();
  await listenOn(probe, port, host);
  await new Promise((r) => probe.close(r));
}
