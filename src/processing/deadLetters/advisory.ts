import { Ajv } from 'ajv';

/** The fields of a MAX_DELIVERIES or MSG_TERMINATED advisory the mover uses. */
export interface WebhookAdvisory {
  type: string;
  stream: string;
  consumer: string;
  stream_seq: number;
  deliveries: number;
}

const validate = new Ajv({ allErrors: true }).compile<WebhookAdvisory>({
  type: 'object',
  required: ['type', 'stream', 'consumer', 'stream_seq', 'deliveries'],
  properties: {
    type: { type: 'string', enum: ['io.nats.jetstream.advisory.v1.max_deliver', 'io.nats.jetstream.advisory.v1.terminated'] },
    stream: { type: 'string', minLength: 1 },
    consumer: { type: 'string', minLength: 1 },
    stream_seq: { type: 'integer', minimum: 1 },
    deliveries: { type: 'integer', minimum: 0 },
  },
});

/**
 * Parses and validates an advisory.
 * @returns the advisory, or a reason why it cannot be used
 */
export function parseAdvisory(data: Uint8Array): { ok: true; advisory: WebhookAdvisory } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!validate(json)) return { ok: false, reason: validate.errors?.map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ') ?? 'invalid' };
  return { ok: true, advisory: json };
}

/** `max_deliveries` or `terminated`, from an advisory's type. */
export function reasonOf(a: WebhookAdvisory): 'max_deliveries' | 'terminated' {
  return a.type.endsWith('.terminated') ? 'terminated' : 'max_deliveries';
}
