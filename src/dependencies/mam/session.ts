import type { KV } from '@nats-io/kv';
import { DependencyError, RejectedError } from '../runtime/errors.js';
import type { Log } from '../../log.js';
import type { LoginBrowser } from '../browser/loginBrowser.js';

/** Where the current `mam_id` cookie survives a restart. */
export interface SessionStore {
  /** The saved cookie; undefined when none is saved. */
  load(): Promise<string | undefined>;
  /** Replaces the saved cookie. */
  save(cookie: string): Promise<void>;
}

/** A store that lives as long as the process (tests, or no NATS). */
export function memorySessionStore(initial?: string): SessionStore {
  let cookie = initial;
  return {
    load: async () => cookie,
    save: async (value) => {
      cookie = value;
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
    }
    if (!this.loaded) await this.load();
    if (this.cookie !== undefined) return { cookie: this.cookie, fresh: false };
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
  }

  /**
   * MAM refused the current cookie. Next comes, once, the stored cookie if
   * it is another one (an owner that lost MAM may have saved a newer one
   * after this one was read), then `MAM_ID` if it was not tried yet, else a login.
   */
  async rejected(): Promise<void> {
    const refused = this.cookie;
    if (!this.storeRetried) {
      this.storeRetried = true;
      const stored = await this.options.store.load().catch(() => undefined);
      if (stored !== undefined && stored !== refused) {
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
    this.cookie = stored ?? this.options.id;
    this.idTried = stored === undefined;
  }

  private async save(cookie: string): Promise<void> {
    try {
      await this.options.store.save(cookie);
    } catch (err) {
      // The cookie still works from memory; only a restart would need a login.
      this.options.log?.warn({ err, dependency: this.options.dependency }, 'could not save the MAM session cookie');
    }
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
