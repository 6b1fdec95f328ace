import { StubServer, type StubAnswer } from './stubServer.js';

/** The account the form page accepts. */
export const FORM_ACCOUNT = { email: 'reader@example.com', password: 'correct horse battery staple' };

/** About the characters of visible text on `/big`, above the scrape cap. */
export const BIG_TEXT_CHARS = 250_000;

// An empty icon keeps Chromium from requesting /favicon.ico, so every request the stub sees is a page's.
const page = (title: string, body: string, head = ''): string =>
  `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title>${head}</head><body>${body}</body></html>`;

const html = (status: number, body: string, headers: Record<string, string> = {}): StubAnswer => ({
  status,
  body,
  headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
});

/** A page whose script, iframe, fetch and image all go to `target` (an origin). */
const embeds = (target: string): string =>
  page(
    'Embeds',
    `<p>A page with embeds</p>
     <img src="${target}/img" alt="">
     <iframe src="${target}/frame"></iframe>
     <script src="${target}/script"></script>
     <script>fetch('${target}/fetch', { mode: 'no-cors' }).catch(() => undefined);</script>`,
  );

/** An article with an image, a web font and a video, none of which a scrape may download. */
const ARTICLE = page(
  'A Quiet Article',
  `<h1>Hail Mary</h1>
   <p>Ryland Grace wakes up alone.</p>
   <div style="display:none">HIDDEN TEXT</div>
   <img src="/assets/cover.jpg" alt="">
   <p class="fancy">Set in a web font.</p>
   <video src="/assets/clip.mp4" autoplay muted></video>`,
  `<style>@font-face { font-family: Fancy; src: url(/assets/fancy.woff2); } .fancy { font-family: Fancy; }</style>`,
);

// 250 paragraphs of words, as a long article has: about BIG_TEXT_CHARS characters of visible text.
const BIG_BODY = `<p>${'lorem ipsum dolor sit amet '.repeat(37)}</p>`.repeat(BIG_TEXT_CHARS / 1000);

const FORM = page(
  'Sign in',
  `<form action="/session" method="post">
     <input type="text" name="email"><input type="password" name="password">
     <input type="submit" value="Log in">
   </form>`,
);

/**
 * Starts a local web site for the browser actor: `/article`, `/plain/<n>`,
 * `/missing` (404), `/broken` (503), `/big`, `/redirect?to=<url>` (302),
 * `/form` posting to `/session` (sets `sid` and redirects to `/welcome`).
 * Requests under `/assets/` must never arrive (images, fonts, media are blocked).
 */
export function startPagesStub(): Promise<StubServer> {
  return StubServer.start((method, url, request) => {
    const path = url.pathname;
    if (path === '/article') return html(200, ARTICLE);
    if (path.startsWith('/plain/')) return html(200, page(`Plain ${path.slice(7)}`, `<p>Plain page ${path.slice(7)}</p>`));
    if (path === '/missing') return html(404, page('Not Found', '<p>Nothing here</p>'));
    if (path === '/broken') return html(503, page('Maintenance', '<p>Down for maintenance</p>'));
    if (path === '/big') return html(200, page('Big', BIG_BODY));
    if (path === '/redirect') return { status: 302, body: '', headers: { location: url.searchParams.get('to') ?? '/' } };
    if (path === '/form') return html(200, FORM);
    if (path === '/embeds') return html(200, embeds(url.searchParams.get('target') ?? ''));
    if (path === '/session' && method === 'POST') {
      const form = new URLSearchParams(request.body);
      const ok = form.get('email') === FORM_ACCOUNT.email && form.get('password') === FORM_ACCOUNT.password;
      return ok
        ? { status: 302, body: '', headers: { location: '/welcome', 'set-cookie': 'sid=s3cr3t; Path=/; HttpOnly' } }
        : { status: 302, body: '', headers: { location: '/form?error=1' } };
    }
    if (path === '/welcome') return html(200, page('Welcome', '<p>Signed in</p>'));
    return html(404, page('Not Found', `<p>No route ${path}</p>`));
  });
}
