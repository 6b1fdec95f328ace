/**
 * MyAnonamouse's search wire format (`POST /tor/js/loadSearchJSONbasic.php`,
 * as used by Prowlarr and Jackett): the request body, the answer ajv checks,
 * and the typed records handlers see. MAM sends numbers as strings or
 * numbers, flags as booleans, 0/1 or "0"/"1", and people as JSON-encoded
 * `{"<id>": "<name>"}` strings; everything is normalised here.
 */
import { BadResponseError, RejectedError } from '../runtime/errors.js';
import { responseValidator } from '../http/responseValidator.js';

/** Fields MAM can search in (`tor.srchIn`). */
export const MAM_SEARCH_FIELDS = ['title', 'author', 'narrator', 'series', 'description', 'tags', 'filenames', 'fileTypes'] as const;

/** One of {@link MAM_SEARCH_FIELDS}. */
export type MamSearchField = (typeof MAM_SEARCH_FIELDS)[number];

/** Results per page (`perpage`, MAM accepts 5..1000). */
export const MAM_PAGE_SIZE = 25;

/** The JSON body of a search. */
export interface MamSearchBody {
  tor: {
    text: string;
    srchIn: MamSearchField[];
    searchType: 'all';
    searchIn: 'torrents';
    cat: ['0'];
    sortType: 'default';
    /** Results to skip, as a string. */
    startNumber: string;
  };
  perpage: number;
}

/** The search body for `text` in `fields`, page `page` (0-based). */
export function searchBody(text: string, fields: MamSearchField[], page: number): MamSearchBody {
  return {
    tor: { text, srchIn: fields, searchType: 'all', searchIn: 'torrents', cat: ['0'], sortType: 'default', startNumber: String(page * MAM_PAGE_SIZE) },
    perpage: MAM_PAGE_SIZE,
  };
}

type Num = number | string;
type Flag = boolean | number | string;

/** One torrent as MAM sends it (only what we read). */
export interface MamWireTorrent {
  id: Num;
  title: string;
  author_info?: string | null;
  narrator_info?: string | null;
  series_info?: string | null;
  /** Bytes ("6324306932") or a display size ("1.2 GiB"). */
  size: Num;
  seeders: Num;
  leechers?: Num;
  times_completed?: Num;
  filetype?: string | null;
  lang_code?: string | null;
  catname?: string | null;
  /** `YYYY-MM-DD HH:MM:SS`, UTC. */
  added?: string | null;
  free?: Flag;
  personal_freeleech?: Flag;
  vip?: Flag;
}

/** A search answer: results, or `error` ("Nothing returned, out of 0" when nothing matched). */
export interface MamWireAnswer {
  data?: MamWireTorrent[];
  total?: Num;
  found?: Num;
  total_found?: Num;
  error?: string;
}

/** A torrent, typed. */
export interface MamTorrent {
  id: number;
  title: string;
  authors: string[];
  narrators: string[];
  series: { name: string; position: string }[];
  sizeBytes: number;
  seeders: number;
  leechers: number;
  /** Times downloaded to completion. */
  completed: number;
  /** File types, e.g. `m4b` or `mp3 m4a`. */
  format: string;
  /** ISO 639 code, e.g. `ENG`. */
  language: string | undefined;
  /** e.g. `Audiobooks - Science Fiction`. */
  category: string | undefined;
  /** ISO 8601, UTC. */
  added: string | undefined;
  freeleech: boolean;
  vip: boolean;
}

/** What a search returns: nothing found is `{ total: 0, results: [] }`. */
export interface MamSearchResult {
  /** Matches in all pages. */
  total: number;
  results: MamTorrent[];
}

const count = { type: 'integer', minimum: 0 } as const;
const text = { type: 'string' } as const;
const textList = { type: 'array', items: text } as const;

/** Schema of {@link MamSearchResult}: what the MAM owner answers to an instance that forwarded a search. */
export const searchResultSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['total', 'results'],
  properties: {
    total: count,
    results: {
      type: 'array',
      maxItems: MAM_PAGE_SIZE,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'title', 'authors', 'narrators', 'series', 'sizeBytes', 'seeders', 'leechers', 'completed', 'format', 'freeleech', 'vip'],
        properties: {
          id: count,
          title: text,
          authors: textList,
          narrators: textList,
          series: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['name', 'position'], properties: { name: text, position: text } } },
          sizeBytes: count,
          seeders: count,
          leechers: count,
          completed: count,
          format: text,
          language: text,
          category: text,
          added: { type: 'string', format: 'date-time' },
          freeleech: { type: 'boolean' },
          vip: { type: 'boolean' },
        },
      },
    },
  },
} as const;

const num = { type: ['number', 'string'], pattern: '^\\d+$' } as const;
const optStr = { type: ['string', 'null'] } as const;
const flag = { type: ['boolean', 'number', 'string'] } as const;

/** Schema of {@link MamWireAnswer}. */
const answerSchema = {
  type: 'object',
  anyOf: [{ required: ['data'] }, { required: ['error'] }],
  properties: {
    error: { type: 'string' },
    total: num,
    found: num,
    total_found: num,
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'title', 'size', 'seeders'],
        properties: {
          id: num,
          title: { type: 'string' },
          author_info: optStr,
          narrator_info: optStr,
          series_info: optStr,
          size: { type: ['number', 'string'] },
          seeders: num,
          leechers: num,
          times_completed: num,
          filetype: optStr,
          lang_code: optStr,
          catname: optStr,
          added: optStr,
          free: flag,
          personal_freeleech: flag,
          vip: flag,
        },
      },
    },
  },
} as const;

const UNITS: Record<string, number> = { B: 1, KB: 2 ** 10, KIB: 2 ** 10, MB: 2 ** 20, MIB: 2 ** 20, GB: 2 ** 30, GIB: 2 ** 30, TB: 2 ** 40, TIB: 2 ** 40 };

/** Bytes of a MAM size ("6324306932", "1.2 GiB", "881.5 MiB"); MAM's units are binary. */
function parseSize(size: Num): number | undefined {
  if (typeof size === 'number') return size;
  const m = /^\s*([\d,]+(?:\.\d+)?)\s*([A-Za-z]+)?\s*$/.exec(size);
  const factor = UNITS[(m?.[2] ?? 'B').toUpperCase()];
  if (!m || factor === undefined) return undefined;
  return Math.round(Number(m[1]!.replace(/,/g, '')) * factor);
}

/** Values of a `{"<id>": <value>}` JSON string; MAM sometimes sends malformed ones, which give none. */
function jsonValues(info: string | null | undefined): unknown[] {
  if (!info) return [];
  try {
    const parsed: unknown = JSON.parse(info);
    return parsed !== null && typeof parsed === 'object' ? Object.values(parsed) : [];
  } catch {
    return [];
  }
}

const names = (info: string | null | undefined) => jsonValues(info).filter((v): v is string => typeof v === 'string');
const isSet = (f: Flag | undefined) => f === true || f === 1 || f === '1';
const orUndefined = (s: string | null | undefined) => (s ? s : undefined);

function toTorrent(dependency: string, t: MamWireTorrent): MamTorrent {
  const sizeBytes = parseSize(t.size);
  if (sizeBytes === undefined) throw new BadResponseError(dependency, `torrent ${t.id} has an unreadable size ${JSON.stringify(t.size)}`);
  return {
    id: Number(t.id),
    title: t.title,
    authors: names(t.author_info),
    narrators: names(t.narrator_info),
    series: jsonValues(t.series_info)
      .filter((v): v is [string, string] => Array.isArray(v) && typeof v[0] === 'string')
      .map(([name, position]) => ({ name, position: typeof position === 'string' ? position : '' })),
    sizeBytes,
    seeders: Number(t.seeders),
    leechers: Number(t.leechers ?? 0),
    completed: Number(t.times_completed ?? 0),
    format: t.filetype ?? '',
    language: orUndefined(t.lang_code),
    category: orUndefined(t.catname),
    added: t.added ? `${t.added.replace(' ', 'T')}Z` : undefined,
    freeleech: isSet(t.free) || isSet(t.personal_freeleech),
    vip: isSet(t.vip),
  };
}

/**
 * Checks a search answer and turns it into typed results.
 * @throws BadResponseError when it breaks the schema; RejectedError when MAM
 * answers an error other than "nothing returned".
 */
export function searchResultValidator(dependency: string): (body: unknown) => MamSearchResult {
  const validate = responseValidator<MamWireAnswer>(dependency, 'search answer', answerSchema);
  return (body) => {
    const answer = validate(body);
    if (answer.data === undefined) {
      if (/^Nothing returned/i.test(answer.error ?? '')) return { total: 0, results: [] };
      throw new RejectedError(dependency, `search refused: ${answer.error}`);
    }
    const results = answer.data.map((t) => toTorrent(dependency, t));
    return { total: Number(answer.found ?? answer.total_found ?? answer.total ?? results.length), results };
  };
}
