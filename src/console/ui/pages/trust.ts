/** Trust anchors by environment: add from a PEM, remove (the API's lock-out guard answers in words), their CRLs. */
import { api, enc } from '../api.js';
import { fmtDate, h, replace } from '../dom.js';
import { clearErrors, confirmButton, field, formError, input, showError, textarea } from '../forms.js';
import type { Ctx } from '../main.js';

interface Anchor {
  name: string;
  subject: string;
  environment: string | null;
  not_after: string;
  'x5t#S256': string;
  allow_missing_eku: boolean;
}
interface Crl {
  id: string;
  trust_anchor: string;
  issuer_subject: string;
  source: string;
  this_update: string;
  next_update: string | null;
  revoked_count: number;
  last_error: string | null;
}

export async function trustPage(ctx: Ctx): Promise<void> {
  const [{ items: anchors }, { items: crls }] = await Promise.all([api<{ items: Anchor[] }>('GET', '/admin/trust-anchors'), api<{ items: Crl[] }>('GET', '/admin/crls')]);
  const byEnv = new Map<string, Anchor[]>();
  for (const a of anchors) byEnv.set(a.environment ?? '(no environment)', [...(byEnv.get(a.environment ?? '(no environment)') ?? []), a]);
  const sections = [...byEnv.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([env, list]) => {
      const error = h('div', { class: 'form-error', role: 'alert' });
      const section = h(
        'section',
        { 'aria-labelledby': `env-${env}` },
        h('h2', { id: `env-${env}` }, `Environment: ${env}`),
        error,
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['Name', 'Subject', 'Expires', 'x5t#S256', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            ...list.map((a) =>
              h(
                'tr',
                {},
                h('th', { scope: 'row' }, a.name),
                h('td', {}, h('code', {}, a.subject)),
                h('td', {}, fmtDate(a.not_after)),
                h('td', {}, h('code', { class: 'thumb' }, a['x5t#S256'])),
                h(
                  'td',
                  {},
                  confirmButton(
                    `Remove ${a.name}`,
                    `Really stop trusting ${a.name}?`,
                    async () => {
                      try {
                        await api('DELETE', `/admin/trust-anchors/${enc(a.name)}`);
                        ctx.refresh();
                      } catch (err) {
                        showError(section, err);
                      }
                    },
                    ctx.readOnly,
                  ),
                ),
              ),
            ),
          ),
        ),
      );
      return section;
    });

  const crlError = h('div', {}, h('div', { class: 'form-error', role: 'alert' }));
  const name = field('Name', input({ required: true }), { name: 'name' });
  const env = field('Environment', input({ placeholder: 'prod, staging, …' }), { name: 'environment' });
  const pem = field('CA certificate (PEM)', textarea(), { name: 'pem' });
  const submit = h('button', { type: 'submit' }, 'Add trust anchor');
  if (ctx.readOnly) {
    submit.disabled = true;
    submit.title = ctx.readOnly;
  }
  const form = h('form', { class: 'card', 'aria-labelledby': 'add-anchor-h' }, h('h2', { id: 'add-anchor-h' }, 'Trust a CA'), formError(), name.wrap, env.wrap, pem.wrap, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      await api('POST', '/admin/trust-anchors', { name: name.control.value, pem: pem.control.value, ...(env.control.value ? { environment: env.control.value } : {}) });
      ctx.refresh();
    } catch (err) {
      showError(form, err);
    }
  });

  replace(
    ctx.main,
    h('h1', {}, 'Trust anchors'),
    ...sections,
    h('h2', {}, 'Certificate revocation lists'),
    crlError,
    crls.length
      ? h(
          'table',
          {},
          h(
            'thead',
            {},
            h('tr', {}, ...['Trust anchor', 'Issuer', 'Source', 'This update', 'Next update', 'Revoked', 'Last error', 'Actions'].map((t) => h('th', { scope: 'col' }, t))),
          ),
          h(
            'tbody',
            {},
            ...crls.map((c) =>
              h(
                'tr',
                {},
                h('td', {}, c.trust_anchor),
                h('td', {}, h('code', {}, c.issuer_subject)),
                h('td', {}, c.source),
                h('td', {}, fmtDate(c.this_update)),
                h('td', {}, fmtDate(c.next_update)),
                h('td', {}, String(c.revoked_count)),
                h('td', {}, c.last_error ?? 'none'),
                h(
                  'td',
                  {},
                  confirmButton(
                    `Remove CRL of ${c.trust_anchor}`,
                    'Really stop checking it?',
                    async () => {
                      try {
                        await api('DELETE', `/admin/trust-anchors/${enc(c.trust_anchor)}/crls/${enc(c.id)}`);
                        ctx.refresh();
                      } catch (err) {
                        showError(crlError, err);
                      }
                    },
                    ctx.readOnly,
                  ),
                ),
              ),
            ),
          ),
        )
      : h('p', {}, 'No CRLs. Add one with: certbound trust crl add ANCHOR --url URL (or --file FILE).'),
    crls.length ? h('p', { class: 'muted' }, 'CRLs are added with: certbound trust crl add ANCHOR --url URL (or --file FILE).') : null,
    form,
  );
}
