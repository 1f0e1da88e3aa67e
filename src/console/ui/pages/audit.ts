/** The audit log: filter by actor, action and time; pages of 25, newest first. */
import { api, enc } from '../api.js';
import { fmtDate, h, replace } from '../dom.js';
import { clearErrors, field, formError, input, showError } from '../forms.js';
import type { Ctx } from '../main.js';

interface Entry {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

const PAGE = 25;

export async function auditPage(ctx: Ctx): Promise<void> {
  const actor = field('Actor', input({ placeholder: 'admin:ops: (a prefix ending in ":")' }), { name: 'actor' });
  const action = field('Action', input({ placeholder: 'client.add, or key. for every key change' }), { name: 'action' });
  const since = field('From', input({ type: 'datetime-local' }), { name: 'since' });
  const until = field('To', input({ type: 'datetime-local' }), { name: 'until' });
  const tbody = h('tbody');
  const status = h('p', { 'aria-live': 'polite', class: 'muted' });
  const newer = h('button', { type: 'button' }, '← Newest');
  const older = h('button', { type: 'button' }, 'Older →');
  const form = h(
    'form',
    { class: 'filters card', role: 'search', 'aria-label': 'Filter the audit log' },
    formError(),
    actor.wrap,
    action.wrap,
    since.wrap,
    until.wrap,
    h('button', { type: 'submit' }, 'Filter'),
  );
  let cursors: number[] = [];

  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  async function load(before?: number): Promise<void> {
    clearErrors(form);
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const [k, v] of [
      ['actor', actor.control.value],
      ['action', action.control.value],
      ['since', iso(since.control.value)],
      ['until', iso(until.control.value)],
      ['before', before === undefined ? undefined : String(before)],
    ] as const) {
      if (v) q.set(k, v);
    }
    try {
      const { items } = await api<{ items: Entry[] }>('GET', `/admin/audit?${q}`);
      replace(
        tbody,
        ...items.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, String(e.id)),
            h('td', {}, fmtDate(e.at)),
            h('td', {}, h('code', {}, e.actor)),
            h('td', {}, e.action),
            h('td', {}, h('a', { href: e.target.startsWith('client:') ? `#/clients/${enc(e.target.slice(7))}` : '#/audit' }, e.target)),
            h('td', {}, h('details', {}, h('summary', {}, 'before / after'), h('pre', {}, JSON.stringify({ before: e.before, after: e.after }, null, 2)))),
          ),
        ),
      );
      status.textContent = items.length ? `Entries ${items[0]!.id} to ${items[items.length - 1]!.id}` : 'No entries match.';
      older.disabled = items.length < PAGE;
      newer.disabled = before === undefined;
      older.onclick = () => {
        cursors.push(before ?? 0);
        void load(items[items.length - 1]!.id);
      };
    } catch (err) {
      showError(form, err);
    }
  }
  newer.addEventListener('click', () => {
    cursors = [];
    void load();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    cursors = [];
    void load();
  });
  replace(
    ctx.main,
    h('h1', {}, 'Audit log'),
    form,
    status,
    h('table', {}, h('thead', {}, h('tr', {}, ...['#', 'When', 'Actor', 'Action', 'Target', 'Change'].map((t) => h('th', { scope: 'col' }, t)))), tbody),
    h('nav', { 'aria-label': 'Audit pages', class: 'pager' }, newer, ' ', older),
  );
  await load();
}
