import { createHash } from 'node:crypto';
import type { SourceHandler } from '../../processing/handler.js';
import { ProcessingError, ProcessingErrorCodes, unprocessable } from '../../processing/processingError.js';
import type { PagesWebhook } from './schema.js';

/** What OpenAI extracts from a business's page. */
export interface BusinessInfo {
  name: string;
  summary: string;
  services: string[];
  contacts: { emails: string[]; phones: string[]; addresses: string[] };
}

/** The stored record of one page. */
export interface PageRecord {
  url: string;
  finalUrl: string;
  title: string;
  business: BusinessInfo;
  knowledgeBase: { kbId: string; fileId: string; key: string };
  webhookId: string;
}

/** The JSON Schema OpenAI answers in (strict Structured Outputs subset: every property required). */
const BUSINESS_SCHEMA = {
  name: 'business_info',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'summary', 'services', 'contacts'],
    properties: {
      name: { type: 'string', description: "The business's name" },
      summary: { type: 'string', description: 'What the business does, in two or three sentences' },
      services: { type: 'array', items: { type: 'string' }, description: 'Services or products offered' },
      contacts: {
        type: 'object',
        additionalProperties: false,
        required: ['emails', 'phones', 'addresses'],
        properties: {
          emails: { type: 'array', items: { type: 'string' } },
          phones: { type: 'array', items: { type: 'string' } },
          addresses: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const;

/** Page text sent to OpenAI at most (characters), to bound tokens. */
const MAX_PAGE_TEXT = 24_000;

const INSTRUCTIONS = "Extract the business's name, a short summary, its services and its contact details from this web page's text. Use only what the text says; leave lists empty when it says nothing.";

/** The knowledge-base file key of a URL: stable, so a redelivery replaces the same file. */
function pageFileKey(url: string): string {
  return `webhook-relay/pages/${createHash('sha256').update(url).digest('hex').slice(0, 32)}.md`;
}

function markdown(url: string, title: string, info: BusinessInfo, text: string): string {
  const list = (items: string[]) => (items.length ? items.map((i) => `- ${i}`).join('\n') : '- (none found)');
  return [
    `# ${info.name || title}`,
    `Source: ${url}`,
    '',
    info.summary,
    '',
    '## Services',
    list(info.services),
    '',
    '## Contacts',
    list([...info.contacts.emails, ...info.contacts.phones, ...info.contacts.addresses]),
    '',
    '## Page text',
    text,
  ].join('\n');
}

/**
 * `pages`: `{url, knowledgeBaseId?}` → browser scrape → OpenAI extraction of
 * the business's name, summary, services and contacts → a Botpress
 * knowledge-base file, indexing awaited → one record by URL.
 * @param defaultKnowledgeBaseId used when the webhook names none (`BOTPRESS_KB_ID`)
 */
export function pagesPipeline(defaultKnowledgeBaseId: string | undefined): SourceHandler<PagesWebhook, PageRecord> {
  return {
    source: 'pages',
    needs: ['browser', 'openai', 'botpress'],
    async handle(payload, deps, meta) {
      const kbId = payload.knowledgeBaseId ?? defaultKnowledgeBaseId;
      if (!kbId) throw unprocessable('the webhook names no knowledgeBaseId and BOTPRESS_KB_ID is not set');
      const page = await meta.step('browser.scrape', payload.url, (url) => deps.browser.scrape(url));
      if (page.status === 404 || page.status === 410) throw unprocessable(`the page answers ${page.status}`);
      if (page.status >= 400) {
        throw new ProcessingError(ProcessingErrorCodes.PROCESSING_HANDLER_FAILED, `the page answers ${page.status}`, { retriable: true });
      }
      const text = page.text.slice(0, MAX_PAGE_TEXT);
      const business = await meta.step('openai.extract', `${page.title}\n\n${text}`, (input) =>
        deps.openai.extract<BusinessInfo>(input, BUSINESS_SCHEMA, { instructions: INSTRUCTIONS }),
      );
      const key = pageFileKey(payload.url);
      const document = markdown(payload.url, page.title, business, text);
      const file = await meta.step('botpress.addToKnowledgeBase', { kbId, key, document }, (input) =>
        deps.botpress.addToKnowledgeBase(input.kbId, input.key, input.document, { contentType: 'text/markdown', title: business.name || page.title }),
      );
      return [
        {
          key: payload.url,
          value: { url: payload.url, finalUrl: page.finalUrl, title: page.title, business, knowledgeBase: { kbId, fileId: file.fileId, key }, webhookId: meta.id },
        },
      ];
    },
  };
}
