import type { KV } from '@nats-io/kv';
import { DependencyError, RejectedError } from '../runtime/errors.js';
import type { Log } from '../../log.js';
import type { LoginBrowser } from '../browser/loginBrowser.js';

/** How often, and how long, a cookie that could not be saved is offered to the store again. */
const RESAVE_EVERY_MS = 1000;
const RESAVE_FOR_MS = 5 * 60_000;
/** How soon a caller may try again while the only session MAM accepts is one another owner has yet to save. */
const AWAIT_SAVED_SESSION_MS = 2000;

/** nats.js refuses a KV update or create whose expected revision is not the stored one (JetStream API error 10071). */
function isRevisionConflict(e: unknown): boolean {
  return e instanceof Error && /wrong last sequence|10071/i.test(e.message);
}

/** Where the current `mam_id` cookie survives a restart. */
export interface SessionStore {
  /** The saved cookie; undefined when none is saved. */
  load(): Promise<string | undefined>;
  /** Replaces the saved cookie. */
  save(cookie: string): Promise<void>;
  /**
   * Saves `cookie` only while the store still holds `expected` (undefined:
   * nothing saved): a cookie that could not be saved in its owner's term
   * never replaces one a later owner saved.
   * @returns false when the store holds something else
   */
  replace(expected: string | undefined, cookie: string): Promise<boolean>;
}

/** A store that lives as long as the process (tests, or no NATS). */
export function memorySessionStore(initial?: string): SessionStore {
  let cookie = initial;
  return {
    load: async () => cookie,
    save: async (value) => {
      cookie = value;
    },
    replace: async (expected, value) => {
      if (cookie !== expected) return false;
      cookie = value;
      return true;
    },
  };
}

/**
 * A store in the `sessions` KV bucket (key `mam` unless said otherwise):
 * `nats kv get sessions mam`. The value is a live credential. `kv` is
 * awaited at each use: the bucket is opened once NATS is ready.
 */
export function kvSessionStore(kv: () => Promise<KV>, key = 'mam'): SessionStore {
  return {
    async load() {
      const entry = await (await kv()).get(key);
      return entry && entry.operation === 'PUT' && entry.length > 0 ? entry.string() : undefined;
    },
    async save(cookie) {
      await (await kv()).put(key, cookie);
    },
    async replace(expected, cookie) {
      const bucket = await kv();
      const entry = await bucket.get(key);
      const held = entry && entry.operation === 'PUT' && entry.length > 0 ? entry.string() : undefined;
      if (held !== expected) return false;
      try {
        if (entry) await bucket.update(key, cookie, entry.revision);
        else await bucket.create(key, cookie);
        return true;
      } catch (e) {
        // Another write came first: whatever it saved is newer.
        if (isRevisionConflict(e)) return false;
        throw e;
      }
    },
  };
}

/** Selectors of MAM's login form (`/login.php`, posting to `/takelogin.php`). */
const MAM_LOGIN_FORM = {
  email: 'form:has(input[name="password"]) input[name="email"]',
  password: 'form:has(input[name="password"]) input[name="password"]',
  submit: 'form:has(input[name="password"]) [type="submit"]',
} as const;

/** MAM's session cookie. */
export const MAM_COOKIE = 'mam_id';

/** Options of {@link MamSession}. */
export interface MamSessionOptions {
  dependency: string;
  store: SessionStore;
  /** Submits the login form in this process's own Chromium (the credentials never leave it). */
  login: LoginBrowser;
  /** `MAM_ID`. */
  id: string | undefined;
  /** `MAM_EMAIL`, `MAM_PASSWORD`. */
  email: string | undefined;
  password: string | undefined;
  /** `{MAM_URL}/login.php`. */
  loginUrl: string;
  log?: Pick<Log, 'warn'>;
}

/** The cookie to send, and whether a login produced it just now. */
export interface CurrentCookie {
  cookie: string;
  fresh: boolean;
}

/**
 * MAM's session, owned by the MAM actor (one call at a time, so the cookie
 * MAM rotates on every answer is never sent twice). The cookie comes from,
 * in order: the store (the newest one of an earlier run), `MAM_ID`, a login
 * in this process's own Chromium ({@link LoginBrowser}). Every rotation is saved.
 */
export class MamSession {
  private cookie: string | undefined;
  private loaded = false;
  private idTried = false;
  /** Set when MAM refused the credentials: no further login until restart (MAM locks accounts that retry). */
  private loginRefusal: string | undefined;
  /**
   * The login under way. A call that timed out during its login frees the
   * actor's slot while the login goes on; the next call joins it instead of
   * logging in a second time.
   */
  private loggingIn: Promise<string> | undefined;
  /** The actor run the cookie was last read for (see {@link MamSession.current}). */
  private term: AbortSignal | undefined;
  /** Whether, since the last search MAM accepted, the store was read again after a refusal. */
  private storeRetried = false;
  /** Cookies MAM refused since it last accepted one: none is sent again. */
  private readonly refused = new Set<string>();
  /** What the store held when this session last read or wrote it. */
  private stored: string | undefined;
  /** Offers a cookie that could not be saved to the store again (see {@link MamSession.saveLater}). */
  private resave: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: MamSessionOptions) {}

  /**
   * The cookie to send: the stored one is read on first use; with none
   * left to try, logs in.
   * @throws DependencyError: `DEP_UNAVAILABLE` when the store cannot be
   * read; `DEP_REJECTED` without credentials or when MAM refuses them; the
   * login page's errors.
   */
  async current(term?: AbortSignal): Promise<CurrentCookie> {
    // A new actor run (this instance owns MAM again after another did): the
    // cookie in memory is an old term's; the store holds the newest one.
    if (term !== undefined && term !== this.term) {
      this.term = term;
      this.loaded = false;
      this.idTried = false;
    }
    if (!this.loaded) await this.load();
    if (this.cookie !== undefined) return { cookie: this.cookie, fresh: false };
    const { email, password, dependency } = this.options;
    if ((!email || !password) && this.stored !== undefined) {
      // A session was saved, so one existed: an owner that lost MAM before it
      // could save MAM's newest cookie saves it once it reaches the store
      // again. Read the store on the next call; send nothing refused before.
      this.loaded = false;
      this.storeRetried = false;
      throw new DependencyError('DEP_UNAVAILABLE', dependency, 'MAM refused the saved session and there are no MAM_EMAIL/MAM_PASSWORD to log in with; waiting for a newer saved one', {
        retryAfterMs: AWAIT_SAVED_SESSION_MS,
      });
    }
    return { cookie: await this.login(), fresh: true };
  }

  /** MAM answered with a new cookie: it replaces the current one, here and in the store. */
  async rotate(cookie: string): Promise<void> {
    if (cookie === this.cookie) return;
    this.cookie = cookie;
    await this.save(cookie);
  }

  /** MAM accepted the cookie: after a later refusal the store is worth reading again. */
  accepted(): void {
    this.storeRetried = false;
    this.refused.clear();
  }

  /** Stops offering an unsaved cookie to the store. */
  close(): void {
    clearInterval(this.resave);
    this.resave = undefined;
  }

  /**
   * MAM refused the current cookie. Next comes, once, the stored cookie if
   * it is another one (an owner that lost MAM may have saved a newer one
   * after this one was read), then `MAM_ID` if it was not tried yet, else a login.
   */
  async rejected(): Promise<void> {
    const refused = this.cookie;
    if (refused !== undefined) this.refused.add(refused);
    if (!this.storeRetried) {
      this.storeRetried = true;
      const stored = await this.options.store.load().catch(() => undefined);
      if (stored !== undefined && !this.refused.has(stored)) {
        this.stored = stored;
        this.cookie = stored;
        return;
      }
    }
    const { id } = this.options;
    this.cookie = id !== undefined && !this.idTried && id !== refused ? id : undefined;
    this.idTried = true;
  }

  private async load(): Promise<void> {
    let stored: string | undefined;
    try {
      stored = await this.options.store.load();
    } catch (e) {
      throw new DependencyError('DEP_UNAVAILABLE', this.options.dependency, 'cannot read the saved MAM session', { cause: e });
    }
    this.loaded = true;
    this.stored = stored;
    const { id } = this.options;
    if (stored !== undefined && !this.refused.has(stored)) {
      this.cookie = stored;
    } else if (id !== undefined && !this.idTried && !this.refused.has(id)) {
      this.cookie = id;
      this.idTried = true;
    } else {
      this.cookie = undefined;
    }
  }

  private async save(cookie: string): Promise<void> {
    try {
      await this.options.store.save(cookie);
      this.stored = cookie;
    } catch (err) {
      // The cookie still works from memory; the next owner needs it from the store.
      this.options.log?.warn({ err, dependency: this.options.dependency }, 'could not save the MAM session cookie; offering it again');
      this.saveLater(cookie, this.stored);
    }
  }

  /**
   * MAM refuses every cookie but its newest, so one this owner could not save
   * (cut off from NATS) is the only way back for the next owner without
   * credentials. It is offered again every second for a while, in place of
   * `expected` only: once another owner has saved a cookie, that one is newer.
   */
  private saveLater(cookie: string, expected: string | undefined): void {
    this.close();
    const until = Date.now() + RESAVE_FOR_MS;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      if (this.cookie !== cookie || Date.now() > until) {
        clearInterval(timer);
        return;
      }
      busy = true;
      this.options.store
        .replace(expected, cookie)
        .then((saved) => {
          if (saved) this.stored = cookie;
          clearInterval(timer);
        })
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }, RESAVE_EVERY_MS);
    timer.unref?.();
    this.resave = timer;
  }

  private login(): Promise<string> {
    this.loggingIn ??= this.logIn().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  private async logIn(): Promise<string> {
    const { dependency, email, password, loginUrl } = this.options;
    if (this.loginRefusal) throw new RejectedError(dependency, this.loginRefusal);
    if (!email || !password) throw new RejectedError(dependency, 'no valid MAM session: set MAM_ID, or MAM_EMAIL and MAM_PASSWORD');
    const result = await this.options.login.submitForm({
      url: loginUrl,
      fields: { [MAM_LOGIN_FORM.email]: email, [MAM_LOGIN_FORM.password]: password },
      submit: MAM_LOGIN_FORM.submit,
      cookieNames: [MAM_COOKIE],
    });
    const cookie = result.cookies.find((c) => c.name === MAM_COOKIE)?.value;
    if (!cookie || new URL(result.finalUrl).pathname === new URL(loginUrl).pathname) {
      this.loginRefusal = 'MAM refused the login with MAM_EMAIL/MAM_PASSWORD; fix them and restart (no retry, MAM locks accounts that retry)';
      throw new RejectedError(dependency, this.loginRefusal);
    }
    this.cookie = cookie;
    this.idTried = true;
    await this.save(cookie);
    return cookie;
  }
}
