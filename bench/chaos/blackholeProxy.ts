import { isIP, connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** One client connection and its connection to the target. */
interface Link {
  readonly client: Socket;
  readonly target: Socket;
}

function isLoopback(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}

/**
 * A TCP forwarder on 127.0.0.1 to a loopback target that can be switched
 * into a black hole: it stops forwarding in both directions, keeping both
 * sockets of every connection open and closing nothing, as a network
 * partition that drops packets does. Bytes sent meanwhile wait in the
 * proxy and the kernel's buffers and are delivered when forwarding is
 * restored, as TCP retransmits them when a partition heals. A connection
 * opened during the black hole is accepted and held the same way.
 */
export class BlackholeProxy {
  private holding = false;
  private readonly links = new Set<Link>();
  /** Closes that came while holding: delivered on {@link restore}. */
  private readonly heldCloses: Socket[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /**
   * Listens on a free port of 127.0.0.1 and forwards every connection to `target`.
   * @throws RangeError when `target.host` is not a loopback address.
   */
  static async start(target: { host: string; port: number }): Promise<BlackholeProxy> {
    if (!isLoopback(target.host)) throw new RangeError(`target.host must be a loopback address, got '${target.host}'`);
    // Connections arrive only once listening, after `proxy` exists.
    const server = createServer((client) => proxy.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new BlackholeProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** `nats://127.0.0.1:<port>` */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Whether forwarding is off. */
  get blackholed(): boolean {
    return this.holding;
  }

  /** Stops forwarding in both directions, closing nothing. */
  blackhole(): void {
    this.holding = true;
    for (const { client, target } of this.links) {
      client.pause();
      target.pause();
    }
  }

  /** Forwards again: what was held goes through, then any close that came meanwhile. */
  restore(): void {
    this.holding = false;
    for (const { client, target } of this.links) {
      client.resume();
      target.resume();
    }
    for (const socket of this.heldCloses.splice(0)) socket.destroy();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const { client, target } of this.links) {
      client.destroy();
      target.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, to: { host: string; port: number }): void {
    const link: Link = { client, target: connect({ host: to.host, port: to.port }) };
    this.links.add(link);
    if (this.holding) {
      client.pause();
      link.target.pause();
    }
    this.forward(link.client, link.target);
    this.forward(link.target, link.client);
    const forget = () => this.links.delete(link);
    client.once('close', forget);
    link.target.once('close', forget);
  }

  /** Copies `from` into `to` with backpressure; `from` ending or failing ends `to`. */
  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!this.holding) from.resume();
    });
    // 'end' comes only once everything before it was read, so a held FIN waits with the bytes.
    from.on('end', () => to.end());
    from.on('error', () => undefined);
    from.on('close', () => {
      if (this.holding) this.heldCloses.push(to);
      else to.destroy();
    });
  }
}
