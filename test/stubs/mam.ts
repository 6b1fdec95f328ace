import { randomBytes } from 'node:crypto';
import type { MamWireTorrent } from '../../src/dependencies/mam/schemas.js';
import { StubServer, type StubAnswer } from './stubServer.js';

/** The account the stub's login accepts. */
export const MAM_ACCOUNT = { email: 'reader@example.com', password: 'correct horse battery staple' };

/** Torrents as MAM's search answers them (ids and counts as strings, people as JSON strings). */
const MAM_TORRENTS: MamWireTorrent[] = [
  {
    id: '812345',
    title: 'Project Hail Mary',
    author_info: '{"5432": "Andy Weir"}',
    narrator_info: '{"8877": "Ray Porter"}',
    series_info: '{}',
    size: '1.2 GiB',
    seeders: '312',
    leechers: '4',
    times_completed: '5120',
    filetype: 'm4b',
    lang_code: 'ENG',
    catname: 'Audiobooks - Science Fiction',
    added: '2021-05-04 11:22:33',
    free: 0,
    personal_freeleech: 0,
    vip: 1,
  },
  {
    id: 698765,
    title: 'The Martian',
    author_info: '{"5432": "Andy Weir"}',
    narrator_info: '{"1001": "R. C. Bray", "1002": "Wil Wheaton"}',
    series_info: '{"77": ["The Martian", "1"]}',
    size: '10892928',
    seeders: 88,
    leechers: 0,
    times_completed: 931,
    filetype: 'mp3 m4a',
    lang_code: 'ENG',
    catname: 'Audiobooks - Science Fiction',
    added: '2014-02-11 08:00:00',
    free: '1',
    vip: false,
  },
  {
    id: '700001',
    title: 'Artemis',
    // MAM sometimes sends malformed JSON here; it gives no authors rather than failing the search.
    author_info: '{"5432": "Andy "Weir""}',
    narrator_info: null,
    size: '881.5 MiB',
    seeders: '0',
    filetype: 'epub',
  },
];

/** One search the stub received. */
export interface RecordedSearch {
  /** The `mam_id` it carried. */
  readonly cookie: string | undefined;
  /** The cookie the stub considered valid when it arrived. */
  readonly valid: string | undefined;
  readonly body: unknown;
  readonly status: number;
}

/** MAM's stub and what it saw. */
export interface MamStub {
  readonly server: StubServer;
  readonly url: string;
  /** Every search request, in order. */
  readonly searches: RecordedSearch[];
  /** Every cookie issued, by logins and rotations, oldest first. */
  readonly issued: string[];
  /** Login form submissions, and the successful ones. */
  readonly loginAttempts: number;
  readonly logins: number;
  /** The cookie the next search must carry; older ones are refused. */
  readonly valid: string | undefined;
  /** Opens a session outside any login (what a user copies into MAM_ID) and returns its cookie. */
  openSession(): string;
  /** Ends the current session: its cookie is refused from now on. */
  expireSession(): void;
  close(): Promise<void>;
}

const html = (status: number, body: string, headers: Record<string, string> = {}): StubAnswer => ({
  status,
  body: `<!doctype html><html><head><link rel="icon" href="data:,"><title>MAM</title></head><body>${body}</body></html>`,
  headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
});

const LOGIN_PAGE = `<form action="/takelogin.php" method="post">
  <input type="text" name="email"><input type="password" name="password">
  <input type="submit" value="Log in!"></form>`;

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

const matches = (t: MamWireTorrent, words: string) => {
  const hay = `${t.title} ${t.author_info ?? ''} ${t.narrator_info ?? ''}`.toLowerCase();
  return words.toLowerCase().split(/\s+/).every((w) => hay.includes(w));
};

/**
 * Starts a stub of www.myanonamouse.net: `/login.php` (a form posting
 * `email`/`password` to `/takelogin.php`, which sets `mam_id` and redirects
 * to `/u/`), and the JSON search, which refuses every cookie but the one it
 * issued last (403, as MAM) and answers with a new one (Set-Cookie).
 */
export async function startMamStub(): Promise<MamStub> {
  let valid: string | undefined;
  let loginAttempts = 0;
  let logins = 0;
  const issued: string[] = [];
  const searches: RecordedSearch[] = [];
  const issue = () => {
    valid = randomBytes(24).toString('base64url');
    issued.push(valid);
    return `mam_id=${valid}; expires=${new Date(Date.now() + 90 * 86_400_000).toUTCString()}; Max-Age=7776000; path=/; HttpOnly`;
  };

  const server = await StubServer.start((method, url, request) => {
    const path = url.pathname;
    if (path === '/login.php' && method === 'GET') return html(200, LOGIN_PAGE);
    if (path === '/takelogin.php' && method === 'POST') {
      loginAttempts++;
      const form = new URLSearchParams(request.body);
      if (form.get('email') !== MAM_ACCOUNT.email || form.get('password') !== MAM_ACCOUNT.password) {
        return { status: 302, body: '', headers: { location: '/login.php?error=Incorrect%20login' } };
      }
      logins++;
      return { status: 302, body: '', headers: { location: '/u/', 'set-cookie': issue() } };
    }
    if (path === '/u/') return html(200, '<p>Welcome back</p>');
    if (path === '/tor/js/loadSearchJSONbasic.php' && method === 'POST') {
      const cookie = cookieOf(request.headers.cookie, 'mam_id');
      const body = JSON.parse(request.body || 'null') as { tor?: { text?: string; startNumber?: string }; perpage?: number } | null;
      const record = (status: number) => searches.push({ cookie, valid, body, status });
      if (cookie === undefined || cookie !== valid) {
        record(403);
        return { status: 403, body: 'Error, you are not signed in', headers: { 'content-type': 'text/html; charset=utf-8' } };
      }
      record(200);
      const setCookie = issue();
      const found = MAM_TORRENTS.filter((t) => matches(t, body?.tor?.text ?? ''));
      if (found.length === 0) return { status: 200, body: { error: 'Nothing returned, out of 0' }, headers: { 'set-cookie': setCookie } };
      const start = Number(body?.tor?.startNumber ?? 0);
      const perpage = body?.perpage ?? 25;
      const data = found.slice(start, start + perpage);
      return { status: 200, body: { perpage, start, data, total: found.length, found: found.length, ms: '0.512' }, headers: { 'set-cookie': setCookie } };
    }
    return html(404, '<p>Not found</p>');
  });

  return {
    server,
    url: server.url,
    searches,
    issued,
    get loginAttempts() {
      return loginAttempts;
    },
    get logins() {
      return logins;
    },
    get valid() {
      return valid;
    },
    openSession() {
      issue();
      return valid!;
    },
    expireSession() {
      valid = undefined;
    },
    close: () => server.close(),
  };
}
