/** Clients: the list with search and filters, a client's page, and adding clients and mappings from a PEM. */
import { api, enc } from '../api.js';
import { fmtDate, h, replace } from '../dom.js';
import { clearErrors, confirmButton, field, formError, input, select, showError, textarea, writeControl } from '../forms.js';
import type { Ctx } from '../main.js';
import { MAPPING_KIND_DEFINITIONS, MAPPING_KINDS } from '../../../mapping/kinds.js';

interface Mapping {
  id: string;
  kind: string;
  value: string;
  trust_anchor: string | null;
  trust_anchor_environment: string | null;
  not_before: string | null;
  not_after: string | null;
}
interface Client {
  client_id: string;
  token_endpoint_auth_method: string;
  tls_client_certificate_bound_access_tokens: boolean;
  scope: string;
  default_resource: string | null;
  mappings: Mapping[];
}
interface Anchor {
  name: string;
  environment: string | null;
}

/** What a mapping made from a PEM matches on: the `--match` values, from the one definition of the kinds. */
const MATCHES: [string, string][] = MAPPING_KINDS.map((k) => {
  const { cliFlag, label, generalName } = MAPPING_KIND_DEFINITIONS[k];
  return [cliFlag.slice(2), generalName ? `${label} SAN` : label.replace(/^s/, 'S')];
});

function windowState(m: Mapping, now: number): string {
  if (m.not_before && Date.parse(m.not_before) > now) return 'not yet valid';
  if (m.not_after && Date.parse(m.not_after) < now) return 'ended';
  return 'valid now';
}

const anchorOptions = (anchors: Anchor[]): [string, string][] => [
  ['', 'any trusted anchor'],
  ...anchors.map((a): [string, string] => [a.name, `${a.name}${a.environment ? ` (${a.environment})` : ''}`]),
];

/** The mapping fields of a form: PEM (pasted or a file), what to match, the trust anchor, the window. */
function mappingFields(anchors: Anchor[]) {
  const pem = field('Client certificate (PEM)', textarea({ placeholder: '-----BEGIN CERTIFICATE-----' }), {
    name: 'certificate',
    aliases: ['value', 'kind', 'self_signed_certificate'],
    help: 'Paste the PEM, or choose a file below. The mapping value is read from it.',
  });
  const file = h('input', { type: 'file', accept: '.pem,.crt,.cer', id: `${pem.control.id}-file` });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (f) pem.control.value = await f.text();
  });
  const fileLabel = h('p', {}, h('label', { for: file.id }, 'or upload a PEM file: '), file);
  const match = field('Match on', select(MATCHES), { name: 'match' });
  const anchor = field('Pinned trust anchor', select(anchorOptions(anchors)), {
    name: 'trust_anchor',
    help: 'Pin the mapping to one CA (a staging certificate then cannot pass for production).',
  });
  const notAfter = field('Valid until (optional)', input({ type: 'date' }), { name: 'not_after' });
  return { pem, fileLabel, match, anchor, notAfter };
}

async function mappingFromForm(f: ReturnType<typeof mappingFields>) {
  const read = await api<{ kind: string; value: string }>('POST', '/admin/mapping-from-cert', { certificate: f.pem.control.value, match: f.match.control.value });
  return {
    kind: read.kind,
    value: read.value,
    ...(f.anchor.control.value ? { trust_anchor: f.anchor.control.value } : {}),
    ...(f.notAfter.control.value ? { not_after: new Date(`${f.notAfter.control.value}T23:59:59Z`).toISOString() } : {}),
  };
}

export async function clientsPage(ctx: Ctx): Promise<void> {
  const [{ items: clients }, { items: anchors }] = await Promise.all([api<{ items: Client[] }>('GET', '/admin/clients'), api<{ items: Anchor[] }>('GET', '/admin/trust-anchors')]);
  const envs = [...new Set(anchors.map((a) => a.environment).filter((e): e is string => !!e))].sort();
  const search = input({ type: 'search', id: 'client-search', placeholder: 'client id, DN or SAN' });
  const method = select([['', 'any'], 'tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt'], { id: 'client-method' });
  const env = select([['', 'any'], ...envs], { id: 'client-env' });
  const expiring = input({ type: 'number', min: '1', max: '3650', id: 'client-expiring', placeholder: 'days' });
  const tbody = h('tbody');
  const count = h('p', { 'aria-live': 'polite', class: 'muted' });
  let expiringIds: Set<string> | undefined;

  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = clients.filter(
      (c) =>
        (!q || c.client_id.toLowerCase().includes(q) || c.mappings.some((m) => m.value.toLowerCase().includes(q))) &&
        (!method.value || c.token_endpoint_auth_method === method.value) &&
        (!env.value || c.mappings.some((m) => m.trust_anchor_environment === env.value)) &&
        (!expiringIds || expiringIds.has(c.client_id)),
    );
    replace(
      tbody,
      ...shown.map((c) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, h('a', { href: `#/clients/${enc(c.client_id)}` }, c.client_id)),
          h('td', {}, c.token_endpoint_auth_method),
          h('td', {}, c.scope || '—'),
          h('td', {}, String(c.mappings.length)),
          h('td', {}, [...new Set(c.mappings.map((m) => m.trust_anchor_environment ?? (m.trust_anchor ? m.trust_anchor : 'any')))].join(', ') || '—'),
        ),
      ),
    );
    count.textContent = `${shown.length} of ${clients.length} clients`;
  };
  search.addEventListener('input', draw);
  method.addEventListener('change', draw);
  env.addEventListener('change', draw);
  expiring.addEventListener('change', async () => {
    const days = Number(expiring.value);
    if (!days) expiringIds = undefined;
    else {
      const r = await api<{ certificates: { client_id: string }[]; mappings: { client_id: string }[] }>('GET', `/admin/expiry?within=${days}d`);
      expiringIds = new Set([...r.certificates, ...r.mappings].map((x) => x.client_id));
    }
    draw();
  });

  // ---- add a client from a PEM: mapped (a CA-issued certificate) or self-signed (the certificate itself registered)
  const f = mappingFields(anchors);
  const how = field(
    'Authenticates with',
    select([
      ['mapping', 'a certificate from a trusted CA (tls_client_auth, a mapping)'],
      ['self-signed', 'this self-signed certificate (self_signed_tls_client_auth)'],
    ]),
    { name: 'auth_method' },
  );
  const mappingOnly = [f.match.wrap, f.anchor.wrap, f.notAfter.wrap];
  how.control.addEventListener('change', () => {
    for (const w of mappingOnly) w.hidden = how.control.value !== 'mapping';
  });
  const id = field('Client ID', input({ required: true }), { name: 'client_id' });
  const scope = field('Scopes (space-separated)', input(), { name: 'scope' });
  const resource = field('Default resource (optional)', input({ type: 'url' }), { name: 'default_resource' });
  const submit = h('button', { type: 'submit' }, 'Register client');
  writeControl(submit, ctx.readOnly);
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'add-client-h' },
    h('h2', { id: 'add-client-h' }, 'Register a client from its certificate'),
    formError(),
    id.wrap,
    how.wrap,
    f.pem.wrap,
    f.fileLabel,
    f.match.wrap,
    f.anchor.wrap,
    f.notAfter.wrap,
    scope.wrap,
    resource.wrap,
    submit,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const credential = how.control.value === 'self-signed' ? { self_signed_certificate: f.pem.control.value } : { mapping: await mappingFromForm(f) };
      await api('POST', '/admin/clients', {
        client_id: id.control.value,
        ...credential,
        ...(scope.control.value ? { scope: scope.control.value } : {}),
        ...(resource.control.value ? { default_resource: resource.control.value } : {}),
      });
      location.hash = `#/clients/${enc(id.control.value)}`;
    } catch (err) {
      showError(form, err);
    }
  });

  replace(
    ctx.main,
    h('h1', {}, 'Clients'),
    h(
      'div',
      { class: 'filters', role: 'search' },
      h('label', { for: search.id }, 'Search'),
      search,
      h('label', { for: method.id }, 'Auth method'),
      method,
      h('label', { for: env.id }, 'Trust-anchor environment'),
      env,
      h('label', { for: expiring.id }, 'Certificate expiring within (days)'),
      expiring,
    ),
    count,
    h(
      'table',
      {},
      h('caption', { class: 'sr-only' }, 'Registered clients'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Client'),
          h('th', { scope: 'col' }, 'Method'),
          h('th', { scope: 'col' }, 'Scopes'),
          h('th', { scope: 'col' }, 'Mappings'),
          h('th', { scope: 'col' }, 'Environments'),
        ),
      ),
      tbody,
    ),
    form,
  );
  draw();
}

export async function clientPage(ctx: Ctx, clientId: string): Promise<void> {
  const path = `/admin/clients/${enc(clientId)}`;
  const [client, { items: seen }, { items: anchors }] = await Promise.all([
    api<Client>('GET', path),
    api<{ items: { mapping_id: string | null; 'x5t#S256': string; subject: string; not_after: string; seen_at: string }[] }>('GET', `${path}/last-seen`),
    api<{ items: Anchor[] }>('GET', '/admin/trust-anchors'),
  ]);
  const now = Date.now();
  const rowError = h('div', { class: 'form-error', role: 'alert' });
  const mappingRows = client.mappings.map((m) => {
    const state = windowState(m, now);
    const patch = async (body: Record<string, unknown>) => {
      try {
        await api('PATCH', `${path}/mappings/${enc(m.id)}`, body);
        ctx.refresh();
      } catch (err) {
        showError(ctx.main, err);
      }
    };
    const end = h('button', { type: 'button' }, 'End now');
    writeControl(end, ctx.readOnly);
    end.addEventListener('click', () => patch({ not_after: new Date().toISOString() }));
    // Edit the window's end: a date (end of that day, UTC), or empty for open-ended.
    const until = h('input', { type: 'date', id: `until-${m.id}`, value: m.not_after ? m.not_after.slice(0, 10) : '' });
    const save = h('button', { type: 'button' }, 'Set end');
    writeControl(save, ctx.readOnly);
    writeControl(until, ctx.readOnly);
    save.addEventListener('click', () => patch({ not_after: until.value ? new Date(`${until.value}T23:59:59Z`).toISOString() : null }));
    const remove = confirmButton(
      'Remove',
      'Really remove this mapping?',
      async () => {
        try {
          await api('DELETE', `${path}/mappings/${enc(m.id)}`);
          ctx.refresh();
        } catch (err) {
          showError(ctx.main, err);
        }
      },
      ctx.readOnly,
    );
    return h(
      'tr',
      {},
      h('td', {}, m.kind),
      h('td', {}, h('code', {}, m.value)),
      h('td', {}, m.trust_anchor ? `${m.trust_anchor}${m.trust_anchor_environment ? ` (${m.trust_anchor_environment})` : ''}` : 'any'),
      h('td', {}, `${fmtDate(m.not_before)} → ${fmtDate(m.not_after)}`),
      h('td', {}, h('span', { class: `state ${state.replace(/ /g, '-')}` }, state === 'valid now' ? '✓ ' : '✗ ', state)),
      h('td', {}, h('label', { for: until.id, class: 'sr-only' }, `End of mapping ${m.value}`), until, ' ', save, ' ', end, ' ', remove),
    );
  });

  const f = mappingFields(anchors);
  const allowOverlap = h('input', { type: 'checkbox', id: 'allow-overlap', name: 'allow_overlap' });
  const add = h('button', { type: 'submit' }, 'Add mapping');
  writeControl(add, ctx.readOnly);
  const addForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'add-mapping-h' },
    h('h2', { id: 'add-mapping-h' }, 'Add a mapping from a certificate'),
    formError(),
    f.pem.wrap,
    f.fileLabel,
    f.match.wrap,
    f.anchor.wrap,
    f.notAfter.wrap,
    h('p', {}, allowOverlap, h('label', { for: 'allow-overlap' }, ' Allow it to overlap another client’s mapping')),
    add,
  );
  addForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(addForm);
    try {
      const mapping = await mappingFromForm(f);
      await api('POST', `${path}/mappings`, { ...mapping, ...(allowOverlap.checked ? { allow_overlap: true } : {}) });
      ctx.refresh();
    } catch (err) {
      showError(addForm, err);
    }
  });

  const scope = field('Scopes', input({ value: client.scope }), { name: 'scope' });
  const resource = field('Default resource', input({ value: client.default_resource ?? '' }), { name: 'default_resource' });
  const save = h('button', { type: 'submit' }, 'Save');
  writeControl(save, ctx.readOnly);
  const editForm = h('form', { class: 'card', 'aria-labelledby': 'edit-h' }, h('h2', { id: 'edit-h' }, 'Edit'), formError(), scope.wrap, resource.wrap, save);
  editForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(editForm);
    try {
      await api('PATCH', path, { scope: scope.control.value, ...(resource.control.value ? { default_resource: resource.control.value } : {}) });
      ctx.refresh();
    } catch (err) {
      showError(editForm, err);
    }
  });
  const removeClient = confirmButton(
    `Remove client ${clientId}`,
    `Really remove ${clientId} and its tokens?`,
    async () => {
      try {
        await api('DELETE', path);
        location.hash = '#/clients';
      } catch (err) {
        showError(ctx.main, err);
      }
    },
    ctx.readOnly,
  );

  replace(
    ctx.main,
    h('p', {}, h('a', { href: '#/clients' }, '← All clients')),
    h('h1', {}, `Client ${client.client_id}`),
    rowError,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Authentication'),
      h('dd', {}, client.token_endpoint_auth_method),
      h('dt', {}, 'Certificate-bound tokens'),
      h('dd', {}, client.tls_client_certificate_bound_access_tokens ? 'yes' : 'no'),
      h('dt', {}, 'Scopes'),
      h('dd', {}, client.scope || '—'),
      h('dt', {}, 'Default resource'),
      h('dd', {}, client.default_resource ?? '—'),
    ),
    h('h2', {}, 'Mappings'),
    client.mappings.length
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['Kind', 'Value', 'Trust anchor', 'Validity window', 'State', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, ...mappingRows),
        )
      : h('p', {}, 'No mappings (this client authenticates without one).'),
    h('h2', {}, 'Last-seen certificate'),
    seen.length
      ? h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ...['Subject', 'x5t#S256', 'Not after', 'Seen'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            {},
            ...seen.map((s) =>
              h('tr', {}, h('td', {}, h('code', {}, s.subject)), h('td', {}, h('code', {}, s['x5t#S256'])), h('td', {}, fmtDate(s.not_after)), h('td', {}, fmtDate(s.seen_at))),
            ),
          ),
        )
      : h('p', {}, 'Not seen yet: the client has not authenticated since it was registered.'),
    addForm,
    editForm,
    h('div', { class: 'card' }, h('h2', {}, 'Remove'), removeClient),
  );
}
