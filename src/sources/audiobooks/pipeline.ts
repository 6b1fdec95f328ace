import type { AudnexBook, MamTorrent } from '../../dependencies/mod.js';
import type { SourceHandler } from '../../processing/handler.js';
import { unprocessable } from '../../processing/processingError.js';
import type { AudiobooksWebhook } from './schema.js';

/** The stored record: Audnex metadata and MAM candidates for one book. */
export interface AudiobookRecord {
  asin: string | undefined;
  title: string;
  author: string | undefined;
  /** Audnex's book, when an ASIN was given and Audnex knows it. */
  metadata: Pick<AudnexBook, 'title' | 'subtitle' | 'authors' | 'narrators' | 'releaseDate' | 'runtimeLengthMin' | 'publisherName' | 'image' | 'genres' | 'seriesPrimary' | 'language'> | undefined;
  /** `found`, `not_found`, or `skipped` (no ASIN). */
  audnex: 'found' | 'not_found' | 'skipped';
  /** MAM search matches, best seeded first, at most {@link MAX_CANDIDATES}. */
  candidates: MamTorrent[];
  totalCandidates: number;
  webhookId: string;
}

/** Candidates kept per record. */
const MAX_CANDIDATES = 10;

/** `title|author`, lower-case, punctuation and extra spaces removed: the key when there is no ASIN. */
function titleAuthorKey(title: string, author: string | undefined): string {
  const norm = (s: string) => s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
  return `${norm(title)}|${norm(author ?? '')}`;
}

/**
 * `audiobooks`: `{asin?, title?, author?}` → Audnex metadata (when an ASIN is
 * given) and MAM search candidates (title/author from Audnex, else from the
 * payload) → one record, keyed by ASIN or by normalised title and author.
 */
export const audiobooksPipeline: SourceHandler<AudiobooksWebhook, AudiobookRecord> = {
  source: 'audiobooks',
  needs: ['audnex', 'mam'],
  async handle(payload, deps, meta) {
    let book: AudnexBook | undefined;
    let audnex: AudiobookRecord['audnex'] = 'skipped';
    if (payload.asin) {
      const lookup = await meta.step('audnex.getBook', payload.asin, (asin) => deps.audnex.getBook(asin));
      audnex = lookup.found ? 'found' : 'not_found';
      book = lookup.found ? lookup.value : undefined;
    }
    const title = book?.title ?? payload.title;
    const author = book?.authors[0]?.name ?? payload.author;
    if (!title) throw unprocessable(`ASIN ${payload.asin} is not on Audnex and the webhook has no title to search for`);

    const query = { text: author ? `${title} ${author}` : title, srchIn: ['title', 'author'] as ('title' | 'author')[] };
    const search = await meta.step('mam.search', query, (q) => deps.mam.search(q));
    const candidates = [...search.results].sort((a, b) => b.seeders - a.seeders).slice(0, MAX_CANDIDATES);
    const metadata = book && {
      title: book.title,
      subtitle: book.subtitle,
      authors: book.authors,
      narrators: book.narrators,
      releaseDate: book.releaseDate,
      runtimeLengthMin: book.runtimeLengthMin,
      publisherName: book.publisherName,
      image: book.image,
      genres: book.genres,
      seriesPrimary: book.seriesPrimary,
      language: book.language,
    };
    return [
      {
        key: payload.asin ?? titleAuthorKey(title, author),
        value: { asin: payload.asin, title, author, metadata, audnex, candidates, totalCandidates: search.total, webhookId: meta.id },
      },
    ];
  },
};
