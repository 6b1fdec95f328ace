import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the stub answers a request. */
export type StubMode =
  /** Answer through the stub's routes. */
  | { kind: 'ok' }
  /** Answer this status (and JSON body) instead, e.g. 500 or 404. */
  | { kind: 'status'; status: number; body?: unknown }
  /** Answer 429 with this `Retry-After` (seconds or an HTTP date). */
  | { kind: 'rateLimit'; retryAfter?: string }
  /** Never answer; the call ends when the client gives up (aborts). */
  | { kind: 'hang' }
  /** Destroy the connection without answering. */
  | { kind: 'reset' }
  /** Answer 200 with this raw body (e.g. JSON of the wrong shape, or not JSON). */
  | { kind: 'body'; body: string };

/** One request the stub received. */
export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** `Date.now()` when the request arrived (the fake clock's, under fake timers). */
  readonly startedAt: number;
  /** When it ended: answered, reset, or abandoned by the client. */
  endedAt: number | undefined;
  outcome: 'answered' | 'reset' | 'aborted' | undefined;
  status: number | undefined;
}

/** What a stub's route answers. */
export interface StubAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** What a route sees of a request besides its method and URL. */
export interface StubRequest {
  readonly headers: IncomingHttpHeaders;
  /** The request body as text ('' when there is none). */
  readonly body: string;
}

/** A stub's API: maps a request to an answer (only in `ok` mode). */
export type StubRoutes = (method: string, url: URL, request: StubRequest) => StubAnswer;

/**
 * A local HTTP server (127.0.0.1, free port) for a downstream API's stub:
 * records each call's start and end and the most calls it saw at once, and
 * fails on command (`setMode` for every call, `failNext` for the next ones).
 * Each API's stub (Audnex, MAM, OpenAI, Botpress) supplies only its routes.
 */
export class StubServer {
  readonly calls: RecordedCall[] = [];
  /** Most requests in progress at the same moment. */
  maxConcurrency = 0;
  /** Requests in progress now. */
  inFlight = 0;
  /**
   * Requests parked now: hanging, or whole and waiting out `answerDelayMs`.
   * Nothing of them is on the wire, so fake time may move (see test/helpers/fakeClock.ts).
   */
  parked = 0;
  /** Delay before answering in `ok`, `status` and `body` modes. */
  answerDelayMs = 0;
  private mode: StubMode = { kind: 'ok' };
  private readonly next: StubMode[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly routes: StubRoutes,
  ) {}

  /** Starts a stub answering with `routes`. */
  static async start(routes: StubRoutes): Promise<StubServer> {
    // Requests arrive only once listening, after `stub` exists.
    const server = createServer((req, res) => stub.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const stub = new StubServer(server, `http://127.0.0.1:${port}`, routes);
    return stub;
  }

  /** Sets how every later call is answered. */
  setMode(mode: StubMode): void {
    this.mode = mode;
  }

  /** Answers the next `times` calls with `mode`, then goes back to the current mode. */
  failNext(mode: StubMode, times = 1): void {
    for (let i = 0; i < times; i++) this.next.push(mode);
  }

  /** Calls whose start falls within `[from, to)` (`Date.now()` times). */
  callsBetween(from: number, to: number): RecordedCall[] {
    return this.calls.filter((c) => c.startedAt >= from && c.startedAt < to);
  }

  /** Forgets recorded calls and the concurrency seen. */
  clearRecords(): void {
    this.calls.length = 0;
    this.maxConcurrency = this.inFlight;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const call: RecordedCall = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      startedAt: Date.now(),
      endedAt: undefined,
      outcome: undefined,
      status: undefined,
    };
    this.calls.push(call);
    this.inFlight++;
    this.maxConcurrency = Math.max(this.maxConcurrency, this.inFlight);
    let parked = false;
    const park = (on: boolean) => {
      if (parked !== on) this.parked += on ? 1 : -1;
      parked = on;
    };
    const end = (outcome: NonNullable<RecordedCall['outcome']>) => {
      if (call.outcome) return;
      park(false);
      call.outcome = outcome;
      call.endedAt = Date.now();
      this.inFlight--;
    };
    res.on('finish', () => end('answered'));
    res.on('close', () => end('aborted'));

    const mode = this.next.shift() ?? this.mode;
    if (mode.kind === 'hang') {
      park(true);
      return;
    }
    if (mode.kind === 'reset') {
      end('reset');
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    const answer = (): StubAnswer => {
      switch (mode.kind) {
        case 'ok':
          return this.routes(call.method, url, { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        case 'status':
          return { status: mode.status, body: mode.body ?? { error: { code: 'STUB', message: `stub answers ${mode.status}` } } };
        case 'rateLimit':
          return { status: 429, body: { error: { code: 'RATE_LIMIT_EXCEEDED' } }, headers: mode.retryAfter === undefined ? {} : { 'retry-after': mode.retryAfter } };
        case 'body':
          return { status: 200, body: mode.body };
      }
    };
    const send = () => {
      park(false);
      if (res.destroyed) return;
      const a = answer();
      call.status = a.status;
      const body = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? null);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(body);
    };
    // Answered once the body has arrived, so routes can read it.
    req.on('end', () => {
      if (this.answerDelayMs > 0) {
        park(true);
        setTimeout(send, this.answerDelayMs);
      } else send();
    });
  }
}

/** The most calls that started within any one second. */
export function busiestSecond(calls: readonly RecordedCall[]): number {
  const starts = calls.map((c) => c.startedAt).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= 1000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
