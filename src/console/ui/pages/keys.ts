/** Signing keys: list, rotate (a new active key), retire an inactive one. */
import { api, enc } from '../api.js';
import { fmtDate, h, replace } from '../dom.js';
import { confirmButton, formError, select, showError, writeControl } from '../forms.js';
import type { Ctx } from '../main.js';

interface Key {
  kid: string;
  alg: string;
  status: string;
  created_at: string;
  retired_at: string | null;
}

export async function keysPage(ctx: Ctx): Promise<void> {
  const { items } = await api<{ items: Key[] }>('GET', '/admin/keys');
  const error = formError();
  const alg = select(['ES256', 'PS256', 'RS256', 'EdDSA'], { id: 'rotate-alg' });
  const rotate = h('button', { type: 'submit' }, 'Rotate: add a new active key');
  writeControl(rotate, ctx.readOnly);
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'rotate-h' },
    h('h2', { id: 'rotate-h' }, 'Rotate'),
    h('p', {}, 'The new key signs from now on; the previous one stays published until you retire it, so tokens it signed keep verifying.'),
    h('label', { for: alg.id }, 'Algorithm '),
    alg,
    ' ',
    rotate,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', '/admin/keys/rotate', { alg: alg.value });
      ctx.refresh();
    } catch (err) {
      showError(ctx.main, err);
    }
  });
  const rows = items.map((k) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('code', {}, k.kid)),
      h('td', {}, k.alg),
      h('td', {}, h('span', { class: `state ${k.status}` }, k.status === 'active' ? '● ' : k.status === 'inactive' ? '○ ' : '✗ ', k.status)),
      h('td', {}, fmtDate(k.created_at)),
      h('td', {}, fmtDate(k.retired_at)),
      h(
        'td',
        {},
        k.status === 'inactive'
          ? confirmButton(
              'Retire',
              `Really retire ${k.kid}? Tokens it signed stop verifying.`,
              async () => {
                try {
                  await api('POST', `/admin/keys/${enc(k.kid)}/retire`);
                  ctx.refresh();
                } catch (err) {
                  showError(ctx.main, err);
                }
              },
              ctx.readOnly,
            )
          : '—',
      ),
    ),
  );
  replace(
    ctx.main,
    h('h1', {}, 'Signing keys'),
    error,
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['Key id', 'Algorithm', 'Status', 'Created', 'Retired', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, ...rows),
    ),
    form,
  );
}
