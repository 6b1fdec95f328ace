import type { AudnexAuthor, AudnexBook, AudnexChapters } from '../../src/dependencies/audnex/schemas.js';
import { StubServer, type StubAnswer } from './stubServer.js';

/** A book as Audnex returns it. */
export const PROJECT_HAIL_MARY: AudnexBook = {
  asin: 'B08G9PRS1K',
  title: 'Project Hail Mary',
  authors: [{ asin: 'B00G0WYW92', name: 'Andy Weir' }],
  narrators: [{ name: 'Ray Porter' }],
  description: 'Ryland Grace is the sole survivor on a desperate, last-chance mission...',
  summary: '<p>Ryland Grace is the sole survivor on a desperate, last-chance mission, and if he fails, humanity and the Earth itself will perish.</p>',
  formatType: 'unabridged',
  genres: [
    { asin: '18580606011', name: 'Science Fiction & Fantasy', type: 'genre' },
    { asin: '18580628011', name: 'Science Fiction', type: 'tag' },
    { asin: '18580629011', name: 'Space Opera', type: 'tag' },
  ],
  image: 'https://m.media-amazon.com/images/I/91vS2L5YfEL.jpg',
  isAdult: false,
  language: 'english',
  literatureType: 'fiction',
  publisherName: 'Audible Studios',
  rating: '4.8',
  region: 'us',
  releaseDate: '2021-05-04T00:00:00.000Z',
  runtimeLengthMin: 970,
  copyright: 2021,
};

/** Its author. */
export const ANDY_WEIR: AudnexAuthor = {
  asin: 'B00G0WYW92',
  name: 'Andy Weir',
  description: 'Andy Weir built a career as a software engineer until the success of his first published novel, The Martian...',
  image: 'https://m.media-amazon.com/images/I/21ZwIk3JvNL._SL500_.jpg',
  region: 'us',
  genres: [{ asin: '18580606011', name: 'Science Fiction & Fantasy', type: 'genre' }],
  similar: [{ asin: 'B001H6UJO8', name: 'Dennis E. Taylor' }],
};

/** Its chapters. */
export const HAIL_MARY_CHAPTERS: AudnexChapters = {
  asin: 'B08G9PRS1K',
  brandIntroDurationMs: 2043,
  brandOutroDurationMs: 5061,
  chapters: [
    { lengthMs: 24_022, startOffsetMs: 0, startOffsetSec: 0, title: 'Opening Credits' },
    { lengthMs: 1_625_003, startOffsetMs: 24_022, startOffsetSec: 24, title: 'Chapter 1' },
    { lengthMs: 1_801_521, startOffsetMs: 1_649_025, startOffsetSec: 1649, title: 'Chapter 2' },
    { lengthMs: 61_110, startOffsetMs: 3_450_546, startOffsetSec: 3450, title: 'End Credits' },
  ],
  isAccurate: true,
  region: 'us',
  runtimeLengthMs: 3_511_656,
  runtimeLengthSec: 3511,
};

const notFound = (what: string, asin: string): StubAnswer => ({
  status: 404,
  body: { error: { code: 'NOT_FOUND', message: `${what} ${asin} not found`, details: null } },
});

/**
 * Starts a stub of api.audnex.us knowing one book, its chapters and its
 * author; every other ASIN is a 404 in Audnex's error shape.
 */
export function startAudnexStub(): Promise<StubServer> {
  return StubServer.start((method, url) => {
    if (method !== 'GET') return { status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } };
    const [, collection, asin, sub] = url.pathname.split('/');
    if (collection === 'books' && asin && sub === 'chapters') {
      return asin === HAIL_MARY_CHAPTERS.asin ? { status: 200, body: HAIL_MARY_CHAPTERS } : notFound('Chapters for', asin);
    }
    if (collection === 'books' && asin && sub === undefined) {
      return asin === PROJECT_HAIL_MARY.asin ? { status: 200, body: PROJECT_HAIL_MARY } : notFound('Book', asin);
    }
    if (collection === 'authors' && asin && sub === undefined) {
      return asin === ANDY_WEIR.asin ? { status: 200, body: ANDY_WEIR } : notFound('Author', asin);
    }
    return { status: 404, body: { message: `Route GET:${url.pathname} not found`, error: 'Not Found', statusCode: 404 } };
  });
}
