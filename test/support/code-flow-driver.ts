/**
 * A user agent for the authorization code flow in tests: a cookie jar (tough-cookie, RFC 6265: cookies
 * ignore ports, as a browser's do), redirects followed one by one across certbound's main listener and
 * the upstream provider, the upstream's login form filled (`login`, `password`), certbound's consent
 * form posted with `decision=allow|deny` and its hidden fields. It stops at the client's redirect_uri
 * without requesting it and returns the authorization response's query, or at a page it cannot go on
 * from (an error page) and returns that page. It presents no client certificate: the pages a browser
 * sees are on the main listener.
 */
import { type HTMLElement, parse } from 'node-html-parser';
import { CookieJar } from 'tough-cookie';
import { Agent, request } from 'undici';

export interface Page {
  url: URL;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  html: string;
  /** The text of the first `<h1>`, when the page has one. */
  h1: string | undefined;
}

export interface AuthorizationOutcome {
  /** The authorization response: the client's redirect_uri with its query, when the flow got there. */
  redirect: URL | undefined;
  code: string | undefined;
  state: string | undefined;
  iss: string | undefined;
  error: string | undefined;
  errorDescription: string | undefined;
  /** The page the flow stopped at when it did not reach the redirect_uri (an error page, a login refused). */
  page: Page | undefined;
  /** Every URL requested, in order (the redirect_uri, never requested, is not in it). */
  visited: string[];
  /** Whether the upstream login form was filled, and whether a consent page was answered. */
  signedInUpstream: boolean;
  consentAnswered: boolean;
}

export interface Credentials {
  login: string;
  password: string;
}

export interface AuthorizeOptions {
  /** The client's redirect_uri: the flow stops at a URL with this origin and path. */
  redirectUri: string;
  /** The consent page's answer. Default `allow`. */
  decision?: 'allow' | 'deny';
  /** The upstream login. Default the driver's credentials. */
  credentials?: Credentials;
  /** At most this many requests. Default 25. */
  maxSteps?: number;
}

export interface CodeFlowDriver {
  readonly jar: CookieJar;
  /** Starts at `url` (certbound's authorization endpoint, usually with a PAR `request_uri`) and follows the flow to the redirect_uri. */
  authorize(url: string | URL, options: AuthorizeOptions): Promise<AuthorizationOutcome>;
  /** One GET with the jar's cookies, no redirect followed. */
  get(url: string | URL): Promise<Page>;
  /** One form POST with the jar's cookies, no redirect followed. */
  post(url: string | URL, form: Record<string, string> | URLSearchParams): Promise<Page>;
  close(): Promise<void>;
}

export interface CodeFlowDriverOptions {
  /** CA certificates (PEM) trusted for the servers: certbound's test root and the upstream's CA. */
  ca: string[];
  /** The upstream login. Default `alice` / `wonderland`. */
  credentials?: Credentials;
}

interface Form {
  action: URL;
  method: string;
  fields: { name: string; value: string; type: string }[];
  buttons: { name: string; value: string }[];
}

function formsOf(page: Page): Form[] {
  const root = parse(page.html);
  return root.querySelectorAll('form').map((form: HTMLElement) => ({
    action: new URL(form.getAttribute('action') ?? page.url.href, page.url),
    method: (form.getAttribute('method') ?? 'get').toLowerCase(),
    fields: form
      .querySelectorAll('input, textarea, select')
      .filter((el) => el.getAttribute('name'))
      .map((el) => ({ name: el.getAttribute('name') as string, value: el.getAttribute('value') ?? '', type: (el.getAttribute('type') ?? 'text').toLowerCase() })),
    buttons: form.querySelectorAll('button[name], input[type=submit][name]').map((el) => ({ name: el.getAttribute('name') as string, value: el.getAttribute('value') ?? '' })),
  }));
}

const sameEndpoint = (a: URL, b: URL) => a.origin === b.origin && a.pathname === b.pathname;

export function createCodeFlowDriver(options: CodeFlowDriverOptions): CodeFlowDriver {
  const jar = new CookieJar();
  const dispatcher = new Agent({ connect: { ca: options.ca } });
  const defaultCredentials = options.credentials ?? { login: 'alice', password: 'wonderland' };

  async function send(method: 'GET' | 'POST', target: URL, form?: URLSearchParams): Promise<Page> {
    const headers: Record<string, string> = { accept: 'text/html,application/xhtml+xml', 'user-agent': 'certbound-test-driver' };
    const cookie = await jar.getCookieString(target.href);
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await request(target, { method, headers, body: form?.toString(), dispatcher });
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) await jar.setCookie(c, target.href, { ignoreError: true });
    const html = await res.body.text();
    const h1 = parse(html).querySelector('h1')?.text.trim();
    return { url: target, status: res.statusCode, headers: res.headers, html, h1 };
  }

  return {
    jar,
    get: (url) => send('GET', new URL(url)),
    post: (url, form) => send('POST', new URL(url), form instanceof URLSearchParams ? form : new URLSearchParams(form)),
    async authorize(start, opts) {
      const redirectUri = new URL(opts.redirectUri);
      const credentials = opts.credentials ?? defaultCredentials;
      const outcome: AuthorizationOutcome = {
        redirect: undefined,
        code: undefined,
        state: undefined,
        iss: undefined,
        error: undefined,
        errorDescription: undefined,
        page: undefined,
        visited: [],
        signedInUpstream: false,
        consentAnswered: false,
      };
      let next: { method: 'GET' | 'POST'; url: URL; form?: URLSearchParams } = { method: 'GET', url: new URL(start) };
      let loginPosted = false;
      for (let step = 0; step < (opts.maxSteps ?? 25); step++) {
        if (sameEndpoint(next.url, redirectUri) && next.method === 'GET') {
          const q = next.url.searchParams;
          return {
            ...outcome,
            redirect: next.url,
            code: q.get('code') ?? undefined,
            state: q.get('state') ?? undefined,
            iss: q.get('iss') ?? undefined,
            error: q.get('error') ?? undefined,
            errorDescription: q.get('error_description') ?? undefined,
          };
        }
        outcome.visited.push(next.url.href);
        const page = await send(next.method, next.url, next.form);
        const location = page.headers.location;
        if (page.status >= 300 && page.status < 400 && typeof location === 'string') {
          next = { method: 'GET', url: new URL(location, page.url) };
          continue;
        }
        if (page.status === 200) {
          const forms = formsOf(page).filter((f) => f.method === 'post');
          const login = forms.find((f) => f.fields.some((x) => x.name === 'login') && f.fields.some((x) => x.name === 'password'));
          if (login && !loginPosted) {
            loginPosted = true;
            outcome.signedInUpstream = true;
            const body = new URLSearchParams();
            for (const f of login.fields) body.append(f.name, f.name === 'login' ? credentials.login : f.name === 'password' ? credentials.password : f.value);
            next = { method: 'POST', url: login.action, form: body };
            continue;
          }
          const consent = forms.find((f) => f.buttons.some((b) => b.name === 'decision'));
          if (consent && !login) {
            outcome.consentAnswered = true;
            const body = new URLSearchParams();
            for (const f of consent.fields) if (f.type === 'hidden') body.append(f.name, f.value);
            body.append('decision', opts.decision ?? 'allow');
            next = { method: 'POST', url: consent.action, form: body };
            continue;
          }
        }
        return { ...outcome, page };
      }
      throw new Error(`the authorization flow did not reach ${redirectUri.href} within ${opts.maxSteps ?? 25} requests: ${outcome.visited.join(' → ')}`);
    },
    close: () => dispatcher.close(),
  };
}
