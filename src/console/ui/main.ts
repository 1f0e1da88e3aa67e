/**
 * The console's single page: it asks the server who is signed in, draws the navigation and renders the
 * page named by the URL fragment (#/clients, #/diagnose, …). Every datum comes from the admin API.
 */
import { api, type ApiError, type Session, setSession } from './api.js';
import { h, replace } from './dom.js';
import { auditPage } from './pages/audit.js';
import { clientPage, clientsPage } from './pages/clients.js';
import { diagnosePage } from './pages/diagnose.js';
import { expiryPage } from './pages/expiry.js';
import { keysPage } from './pages/keys.js';
import { trustPage } from './pages/trust.js';

export interface Ctx {
  session: Session;
  /** Set for a read-only administrator: why write controls are disabled. */
  readOnly: string | undefined;
  main: HTMLElement;
  /** Re-renders the current page. */
  refresh(): void;
}

const PAGES: [string, string][] = [
  ['clients', 'Clients'],
  ['trust', 'Trust anchors'],
  ['diagnose', 'Diagnose'],
  ['expiry', 'Expiry'],
  ['audit', 'Audit log'],
  ['keys', 'Signing keys'],
];

function sessionEnded(err: ApiError): void {
  const root = document.getElementById('app')!;
  replace(
    root,
    h(
      'main',
      { id: 'main', class: 'explain' },
      h('h1', {}, 'Your console session has ended'),
      h('p', {}, err.message),
      err.hint ? h('p', {}, err.hint) : null,
      h('p', {}, h('a', { href: '/admin/console/' }, 'Sign in again')),
    ),
  );
}

async function start(): Promise<void> {
  const root = document.getElementById('app')!;
  let session: Session;
  try {
    session = await api<Session>('GET', '/admin/console/session');
  } catch (err) {
    sessionEnded(err as ApiError);
    return;
  }
  setSession(session, sessionEnded);
  const readOnly = session.read_only
    ? `Read-only: ${session.client_id} has certbound:admin:read, so changes are disabled. An administrator with certbound:admin grants it: certbound client update ${session.client_id} --scope "${session.client_scope} certbound:admin".`
    : undefined;
  const main = h('main', { id: 'main', tabindex: '-1' });
  const nav = h('nav', { 'aria-label': 'Console pages' }, h('ul', {}, ...PAGES.map(([id, label]) => h('li', {}, h('a', { href: `#/${id}`, 'data-page': id }, label)))));
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', async () => {
    await api('DELETE', '/admin/console/session').catch(() => undefined);
    location.assign('/admin/console/signed-out');
  });
  const header = h(
    'header',
    { class: 'top' },
    h('p', { class: 'brand' }, 'certbound console'),
    nav,
    h(
      'p',
      { class: 'who' },
      'Signed in as ',
      h('strong', {}, session.client_id),
      ` (${session.read_only ? 'read-only' : 'administrator'}) · `,
      h('code', { title: 'x5t#S256 of your certificate' }, `${session['x5t#S256'].slice(0, 12)}…`),
      ' · ',
      signOut,
    ),
  );
  const banner = readOnly ? h('p', { class: 'banner', role: 'note', id: 'read-only-reason' }, h('span', { 'aria-hidden': 'true' }, 'ⓘ '), readOnly) : null;
  replace(root, h('a', { class: 'skip', href: '#main' }, 'Skip to content'), header, banner, main);

  let renders = 0;
  async function render(): Promise<void> {
    // Each render draws into its own element, shown only if no later render started meanwhile: a slow
    // page (a refresh after a change) must not overwrite the page navigated to since.
    const seq = ++renders;
    const ctx: Ctx = { session, readOnly, main: h('div', { class: 'page' }), refresh: () => void render() };
    const [page = 'clients', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const arg = rest.map(decodeURIComponent).join('/');
    if (!main.firstChild) replace(main, h('p', {}, 'Loading…'));
    main.setAttribute('aria-busy', 'true');
    try {
      if (page === 'clients' && arg) await clientPage(ctx, arg);
      else if (page === 'trust') await trustPage(ctx);
      else if (page === 'diagnose') await diagnosePage(ctx, arg);
      else if (page === 'expiry') await expiryPage(ctx);
      else if (page === 'audit') await auditPage(ctx);
      else if (page === 'keys') await keysPage(ctx);
      else await clientsPage(ctx);
    } catch (err) {
      replace(ctx.main, h('h1', {}, 'Could not load this page'), h('p', { role: 'alert' }, (err as Error).message));
    }
    if (seq !== renders) return;
    main.removeAttribute('aria-busy');
    replace(main, ctx.main);
    const title = main.querySelector('h1')?.textContent ?? 'Console';
    document.title = `${title} · certbound console`;
  }
  window.addEventListener('hashchange', () => {
    void render().then(() => main.focus());
  });
  await render();
}

void start();
