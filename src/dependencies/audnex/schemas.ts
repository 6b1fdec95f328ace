/**
 * Audnex's wire format (https://api.audnex.us, laxamentumtech/audnexus):
 * the types handlers see and the JSON Schemas ajv checks answers against.
 * Only what we rely on is required; Audnex may add fields at any time.
 */

/** Audible marketplaces Audnex serves. */
export const AUDNEX_REGIONS = ['au', 'ca', 'de', 'es', 'fr', 'in', 'it', 'jp', 'us', 'uk'] as const;

/** One of {@link AUDNEX_REGIONS}. */
export type AudnexRegion = (typeof AUDNEX_REGIONS)[number];

/** A genre or tag. */
export interface AudnexGenre {
  asin: string;
  name: string;
  type: string;
}

/** A series a book belongs to. */
export interface AudnexSeries {
  asin?: string;
  name: string;
  position?: string;
}

/** `GET /books/{asin}`. */
export interface AudnexBook {
  asin: string;
  title: string;
  subtitle?: string;
  authors: { asin?: string; name: string }[];
  narrators?: { name: string }[];
  description?: string;
  summary?: string;
  formatType?: string;
  genres?: AudnexGenre[];
  image?: string;
  isbn?: string;
  language?: string;
  publisherName?: string;
  rating?: string;
  region?: string;
  /** ISO 8601. */
  releaseDate?: string;
  runtimeLengthMin?: number;
  seriesPrimary?: AudnexSeries;
  seriesSecondary?: AudnexSeries;
  copyright?: number;
  isAdult?: boolean;
  literatureType?: string;
}

/** `GET /authors/{asin}`. */
export interface AudnexAuthor {
  asin: string;
  name: string;
  description?: string;
  image?: string;
  region?: string;
  genres?: AudnexGenre[];
  similar?: { asin?: string; name: string }[];
}

/** One chapter of `GET /books/{asin}/chapters`. */
export interface AudnexChapter {
  title: string;
  lengthMs: number;
  startOffsetMs: number;
  startOffsetSec: number;
}

/** `GET /books/{asin}/chapters`. */
export interface AudnexChapters {
  asin: string;
  chapters: AudnexChapter[];
  brandIntroDurationMs?: number;
  brandOutroDurationMs?: number;
  isAccurate?: boolean;
  region?: string;
  runtimeLengthMs?: number;
  runtimeLengthSec?: number;
}

const str = { type: 'string' } as const;
const num = { type: 'number' } as const;
const named = { type: 'object', required: ['name'], properties: { asin: str, name: str } } as const;
const genre = { type: 'object', required: ['name'], properties: { asin: str, name: str, type: str } } as const;
const series = { type: 'object', required: ['name'], properties: { asin: str, name: str, position: str } } as const;

/** Schema of {@link AudnexBook}. */
export const bookSchema = {
  type: 'object',
  required: ['asin', 'title', 'authors'],
  properties: {
    asin: str,
    title: str,
    subtitle: str,
    authors: { type: 'array', items: named },
    narrators: { type: 'array', items: named },
    description: str,
    summary: str,
    formatType: str,
    genres: { type: 'array', items: genre },
    image: str,
    isbn: str,
    language: str,
    publisherName: str,
    rating: str,
    region: str,
    releaseDate: str,
    runtimeLengthMin: num,
    seriesPrimary: series,
    seriesSecondary: series,
    copyright: num,
    isAdult: { type: 'boolean' },
    literatureType: str,
  },
} as const;

/** Schema of {@link AudnexAuthor}. */
export const authorSchema = {
  type: 'object',
  required: ['asin', 'name'],
  properties: {
    asin: str,
    name: str,
    description: str,
    image: str,
    region: str,
    genres: { type: 'array', items: genre },
    similar: { type: 'array', items: named },
  },
} as const;

/** Schema of {@link AudnexChapters}. */
export const chaptersSchema = {
  type: 'object',
  required: ['asin', 'chapters'],
  properties: {
    asin: str,
    chapters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['title', 'lengthMs', 'startOffsetMs', 'startOffsetSec'],
        properties: { title: str, lengthMs: num, startOffsetMs: num, startOffsetSec: num },
      },
    },
    brandIntroDurationMs: num,
    brandOutroDurationMs: num,
    isAccurate: { type: 'boolean' },
    region: str,
    runtimeLengthMs: num,
    runtimeLengthSec: num,
  },
} as const;
