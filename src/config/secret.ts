import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * A credential read from the environment or a file. It prints as
 * `[redacted]` everywhere (JSON, pino, `util.inspect`, string templates),
 * so a config object that reaches a log line or an error carries no secret;
 * only {@link Secret.reveal} gives the value, at the one place that sends it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret itself, for the NATS client. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}
