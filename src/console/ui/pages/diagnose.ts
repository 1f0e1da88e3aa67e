/**
 * Diagnose: a pasted or uploaded certificate (PEM or DER), optionally a client id, gets the diagnosis
 * `certbound doctor` gives, field by field: the registered value beside the presented one, the part
 * that differs highlighted, the reason code and the fix. A refusal ref shows what the server logged.
 */
import { api, ApiError, enc } from '../api.js';
import { type Child, diffMarked, fmtDate, h, replace } from '../dom.js';
import { clearErrors, field, formError, input, showError, textarea } from '../forms.js';
import type { Ctx } from '../main.js';

interface FieldResult {
  status: 'match' | 'mismatch' | 'not_applicable' | 'not_checked';
  code: string | null;
  message: string | null;
  hint: string | null;
}
interface AnchorRef {
  name: string;
  environment: string | null;
}
interface MappingDiagnosis {
  id: string;
  kind: string;
  value: string;
  matches: boolean;
  code: string | null;
  message: string | null;
  hint: string | null;
  fields: {
    identity: FieldResult & { registered: string; certificate: string[]; closest: { registered: string; certificate: string } | null };
    trust_anchor: FieldResult & { pinned: AnchorRef | null; chain_anchor: AnchorRef | null; blocked_by: string | null };
    validity: FieldResult & { not_before: string | null; not_after: string | null };
  };
}
interface NearMiss {
  client_id: string;
  similarity: 'same_value' | 'reversed_dn' | 'cn_as_san' | 'similar_value';
  distance: number | null;
  mapping: MappingDiagnosis;
}
interface Diagnosis {
  would_authenticate: boolean;
  code: string | null;
  message: string;
  hint: string | null;
  certificate: { subject: { rfc4514: string }; issuer: { rfc4514: string }; san: Record<string, string[]>; not_after: string; validity: { message: string }; 'x5t#S256': string };
  chain: { status: string; message: string; anchor: { name: string; environment: string | null } | null };
  findings: { code: string; severity: string; message: string; hint: string }[];
  authenticates_as: { client_id: string }[];
  mapped_by: { client_id: string; code: string | null; value: string | null }[];
  client: { client_id: string; found: boolean; would_authenticate: boolean; code: string | null; message: string; hint: string | null; mappings: MappingDiagnosis[] } | null;
  /** Absent from diagnoses made before near misses were named. */
  near_misses?: NearMiss[];
}

const anchorText = (a: AnchorRef | null) => (a ? `${a.name}${a.environment ? ` (${a.environment})` : ''}` : 'none');

function verdict(ok: boolean, code: string | null, message: string, hint: string | null): HTMLElement {
  return h(
    'div',
    { class: `verdict ${ok ? 'ok' : 'refused'}`, role: 'status' },
    h(
      'p',
      { class: 'verdict-line' },
      h('span', { 'aria-hidden': 'true' }, ok ? '✓ ' : '✗ '),
      h('strong', {}, ok ? 'Would authenticate' : 'Would be refused'),
      code ? [' — reason code ', h('code', { class: 'reason' }, code)] : null,
    ),
    h('p', {}, message),
    hint ? h('p', { class: 'fix' }, h('strong', {}, 'Fix: '), hint) : null,
  );
}

function resultCell(r: FieldResult): HTMLElement {
  const label = { match: '✓ matches', mismatch: '✗ mismatch', not_applicable: '– not applicable', not_checked: '– not checked' }[r.status];
  return h(
    'td',
    { class: `result ${r.status}` },
    h('span', {}, label),
    r.code ? [' ', h('code', {}, r.code)] : null,
    r.message ? h('p', {}, r.message) : null,
    r.hint ? h('p', { class: 'fix' }, 'Fix: ', r.hint) : null,
  );
}

function mappingTable(m: MappingDiagnosis, heading: 'h3' | 'h4' = 'h3'): HTMLElement {
  const id = m.fields.identity;
  // A matching identity shows the certificate's value it matches, not merely its first of that kind.
  const same = id.status === 'match' ? id.certificate.find((v) => v.toLowerCase() === id.registered.toLowerCase()) : undefined;
  const presented = same ?? id.closest?.certificate ?? id.certificate[0] ?? '(none)';
  const ta = m.fields.trust_anchor;
  const v = m.fields.validity;
  const mismatch = (r: FieldResult) => r.status === 'mismatch';
  const row = (name: string, expected: Child, got: Child, r: FieldResult) =>
    h('tr', { class: mismatch(r) ? 'mismatch' : '' }, h('th', { scope: 'row' }, name), h('td', {}, expected), h('td', {}, got), resultCell(r));
  return h(
    'section',
    { class: 'card', 'aria-label': `Mapping ${m.id}` },
    h(
      heading,
      {},
      `Mapping ${m.kind} `,
      h('code', {}, m.value),
      m.matches ? ' — matches' : ` — ${m.code ?? (ta.blocked_by ? `not checked (${ta.blocked_by})` : 'does not match')}`,
    ),
    m.message ? h('p', {}, m.message) : null,
    m.hint ? h('p', { class: 'fix' }, h('strong', {}, 'Fix: '), m.hint) : null,
    h(
      'table',
      { class: 'fields' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Field'),
          h('th', { scope: 'col' }, 'Expected (registered)'),
          h('th', { scope: 'col' }, 'Presented (certificate)'),
          h('th', { scope: 'col' }, 'Result'),
        ),
      ),
      h(
        'tbody',
        {},
        row(
          m.kind,
          h('code', {}, mismatch(id) ? diffMarked(id.registered, presented) : id.registered),
          h('code', {}, mismatch(id) ? diffMarked(presented, id.registered) : presented),
          id,
        ),
        row(
          'Trust anchor',
          mismatch(ta) ? h('mark', { class: 'diff' }, anchorText(ta.pinned)) : anchorText(ta.pinned),
          mismatch(ta) ? h('mark', { class: 'diff' }, anchorText(ta.chain_anchor)) : anchorText(ta.chain_anchor),
          ta,
        ),
        row('Validity window', `${fmtDate(v.not_before)} → ${fmtDate(v.not_after)}`, 'now', v),
      ),
    ),
  );
}

const SIMILARITY: Record<NearMiss['similarity'], (n: NearMiss) => string> = {
  same_value: () => 'the same value, another field differs',
  reversed_dn: () => 'the subject DN registered in reverse order',
  cn_as_san: () => 'the certificate’s CN registered as a SAN',
  similar_value: (n) => `a similar value, ${n.distance} edit${n.distance === 1 ? '' : 's'} away`,
};

/** The nearest registered clients: each with its nearest mapping, field by field, and a link to diagnose as it. */
function nearMisses(list: NearMiss[]): Child {
  if (!list.length) return null;
  return [
    h('h2', {}, 'Nearest registered clients'),
    ...list.map((n) =>
      h(
        'section',
        { class: 'near-miss', 'aria-label': `Near miss ${n.client_id}` },
        h('h3', {}, h('a', { href: `#/diagnose/${enc(n.client_id)}` }, n.client_id), ` — ${SIMILARITY[n.similarity](n)}`),
        mappingTable(n.mapping, 'h4'),
      ),
    ),
  ];
}

export function renderDiagnosis(d: Diagnosis): HTMLElement {
  const c = d.certificate;
  const sans = Object.entries(c.san).flatMap(([k, vs]) => vs.map((v) => `${k.toUpperCase()}:${v}`));
  const client = d.client;
  return h(
    'div',
    { class: 'diagnosis' },
    client ? verdict(client.would_authenticate, client.code, client.message, client.hint) : verdict(d.would_authenticate, d.code, d.message, d.hint),
    h('h2', {}, 'Certificate'),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Subject'),
      h('dd', {}, h('code', {}, c.subject.rfc4514 || '(empty)')),
      h('dt', {}, 'Issuer'),
      h('dd', {}, h('code', {}, c.issuer.rfc4514)),
      h('dt', {}, 'SANs'),
      h('dd', {}, sans.length ? sans.join(', ') : 'none'),
      h('dt', {}, 'Validity'),
      h('dd', {}, c.validity.message),
      h('dt', {}, 'Chain'),
      h('dd', {}, `${d.chain.status === 'complete' ? '✓' : '✗'} ${d.chain.message}`),
      h('dt', {}, 'Chains to'),
      h('dd', {}, d.chain.anchor ? anchorText(d.chain.anchor) : 'no trust anchor'),
      h('dt', {}, 'x5t#S256'),
      h('dd', {}, h('code', {}, c['x5t#S256'])),
    ),
    d.findings.length
      ? [
          h('h2', {}, 'Findings'),
          h('ul', {}, ...d.findings.map((f) => h('li', {}, h('code', {}, f.code), ` (${f.severity}) ${f.message} `, h('span', { class: 'fix' }, `Fix: ${f.hint}`)))),
        ]
      : null,
    client ? [h('h2', {}, `Client ${client.client_id}, field by field`), ...client.mappings.map((m) => mappingTable(m))] : null,
    !client
      ? [
          h('h2', {}, 'Registered clients'),
          d.authenticates_as.length
            ? h('p', {}, 'Authenticates as: ', d.authenticates_as.map((a) => a.client_id).join(', '))
            : h('p', {}, 'It authenticates as no registered client.'),
          d.mapped_by.length
            ? h(
                'p',
                {},
                'Mappings holding one of its values: ',
                ...d.mapped_by.map((m) => h('span', {}, h('a', { href: `#/diagnose/${enc(m.client_id)}` }, m.client_id), m.code ? ` (${m.code}) ` : ' ')),
              )
            : null,
          nearMisses(d.near_misses ?? []),
        ]
      : null,
  );
}

/** A DER upload becomes PEM, which the admin API takes. */
async function fileAsPem(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  if (text.includes('-----BEGIN')) return text;
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `-----BEGIN CERTIFICATE-----\n${btoa(bin).replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE-----\n`;
}

export async function diagnosePage(ctx: Ctx, clientArg: string): Promise<void> {
  const result = h('div', { 'aria-live': 'polite' });
  const cert = field('Certificate or chain (PEM)', textarea({ placeholder: '-----BEGIN CERTIFICATE-----' }), {
    name: 'certificate',
    help: 'The leaf first; further certificates are taken as its chain.',
  });
  const file = h('input', { type: 'file', id: 'diagnose-file', accept: '.pem,.crt,.cer,.der' });
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (f) cert.control.value = await fileAsPem(f);
  });
  const chain = field('Intermediates the client sends (PEM, optional)', textarea({ rows: 3 }), { name: 'chain' });
  const clientId = field('Client ID (optional)', input({ value: clientArg }), { name: 'client_id', help: 'Compare with this client’s mappings, field by field.' });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'diag-h' },
    h('h2', { id: 'diag-h' }, 'Diagnose a certificate'),
    formError(),
    cert.wrap,
    h('p', {}, h('label', { for: file.id }, 'or upload a PEM or DER file: '), file),
    chain.wrap,
    clientId.wrap,
    h('button', { type: 'submit' }, 'Diagnose'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    try {
      const d = await api<Diagnosis>('POST', '/admin/diagnose', {
        certificate: cert.control.value,
        ...(chain.control.value.trim() ? { chain: chain.control.value } : {}),
        ...(clientId.control.value ? { client_id: clientId.control.value } : {}),
      });
      replace(result, renderDiagnosis(d));
    } catch (err) {
      replace(result);
      showError(form, err);
    }
  });

  const ref = field('Refusal ref', input({ placeholder: '1a2b3c4d', maxlength: '40' }), { name: 'ref', help: 'The ref in a client’s error_description, e.g. "(ref 1a2b3c4d)".' });
  const refForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'ref-h' },
    h('h2', { id: 'ref-h' }, 'Look up a refusal'),
    formError(),
    ref.wrap,
    h('button', { type: 'submit' }, 'Look up'),
  );
  refForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(refForm);
    const value = ref.control.value
      .trim()
      .replace(/^\(?ref\s+/i, '')
      .replace(/\)$/, '');
    try {
      const r = await api<{ ref: string; at: string; reason: string; message: string; client_id: string | null; diagnosis: Diagnosis | null }>(
        'GET',
        `/admin/refusals/${enc(value)}`,
      );
      replace(
        result,
        h('h2', {}, `Refusal ${r.ref}`),
        h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'When'),
          h('dd', {}, fmtDate(r.at)),
          h('dt', {}, 'Client'),
          h('dd', {}, r.client_id ?? '(none named)'),
          h('dt', {}, 'Reason'),
          h('dd', {}, h('code', { class: 'reason' }, r.reason)),
          h('dt', {}, 'Message'),
          h('dd', {}, r.message),
        ),
        r.diagnosis ? renderDiagnosis(r.diagnosis) : h('p', {}, 'No certificate diagnosis was logged for this refusal.'),
      );
    } catch (err) {
      replace(result);
      // Whatever the answer (not a ref, not found), it is about the one field.
      showError(refForm, err instanceof ApiError ? new ApiError(err.status, err.code, err.message, err.hint, 'ref') : err);
    }
  });

  replace(ctx.main, h('h1', {}, 'Diagnose'), h('div', { class: 'two' }, form, refForm), result);
}
