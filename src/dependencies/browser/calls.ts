/**
 * The browser actor's calls and results: what handlers pass and get back,
 * and the messages that travel through its mailbox.
 */

/** When a navigation counts as done (Playwright's `waitUntil`). */
export const WAIT_UNTIL = ['load', 'domcontentloaded', 'networkidle', 'commit'] as const;

/** One of {@link WAIT_UNTIL}. */
export type WaitUntil = (typeof WAIT_UNTIL)[number];

/** What a scrape returns. The page's HTTP status is data: a 404 or 503 page is a result, not an error. */
export interface ScrapeResult {
  /** The URL asked for. */
  url: string;
  /** Where the page ended after redirects. */
  finalUrl: string;
  /** HTTP status of the final document (0 when the navigation produced none). */
  status: number;
  title: string;
  /** The body's visible text (`innerText`), trimmed, at most `MAX_TEXT_CHARS` (200 000) characters. */
  text: string;
  /** Whether `text` was cut at that cap. */
  truncated: boolean;
}

/** A form to fill and submit (MAM's login, in its own Chromium: see loginBrowser.ts). */
export interface FormRequest {
  /** The page holding the form. */
  url: string;
  /** Value to type into the one element each CSS selector matches. */
  fields: Record<string, string>;
  /** Selector of the one element to click to submit. */
  submit: string;
  /**
   * Cookies to return, by name.
   * @default every cookie of the browser context
   */
  cookieNames?: string[];
  /**
   * Timeout of each step (load, fill, click, navigation), at most `BROWSER_TIMEOUT_MS`.
   * @default BROWSER_TIMEOUT_MS
   */
  timeoutMs?: number;
}

/** A cookie the form's site set. */
export interface FormCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  /** Unix time in seconds; -1 for a session cookie. */
  expires: number;
}

/** What submitting a form returns. */
export interface FormResult {
  /** Where the submission led, after redirects. */
  finalUrl: string;
  /** HTTP status of that page. */
  status: number;
  cookies: FormCookie[];
}

/** A scrape as it travels through the mailbox. */
export type ScrapeRequest = { kind: 'scrape'; url: string; waitUntil: WaitUntil; timeoutMs: number };

