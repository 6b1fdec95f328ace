import { request, type IncomingMessage } from 'node:http';

/** One Server-Sent Event as received, with the time it arrived. */
export interface ReceivedEvent {
  event: string;
  data: any;
  receivedAt: number;
}

/** A `GET /events` client that records every event (and comment) it reads. */
export class SseClient {
  readonly events: ReceivedEvent[] = [];
  readonly comments: string[] = [];
  private buffer = '';

  private constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.read(chunk));
  }

  /** Connects and resolves once the response headers arrived. */
  static connect(url: string): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => resolve(new SseClient(res)));
      req.on('error', reject);
      req.end();
    });
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const frame = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')), receivedAt: Date.now() });
    }
  }

  /** Events of one name. */
  named(event: string): ReceivedEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Stops reading (the socket buffers fill up, as with a slow client). */
  pause(): void {
    this.res.pause();
  }

  resume(): void {
    this.res.resume();
  }

  close(): void {
    this.res.destroy();
  }
}
