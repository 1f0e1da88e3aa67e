/**
 * Expiry: mapped and last-seen certificates on a timeline with 30/14/7-day bands (expiry-chart.ts), and
 * the same in a table beneath, which is the page's full text alternative.
 */
import { api, enc } from '../api.js';
import { fmtDate, h, replace } from '../dom.js';
import type { Ctx } from '../main.js';
import { band, expiryChart, type Item } from './expiry-chart.js';

export async function expiryPage(ctx: Ctx): Promise<void> {
  const within = h('select', { id: 'expiry-within' }, ...[30, 60, 90, 180].map((d) => h('option', { value: String(d) }, `${d} days`)));
  const area = h('div');
  async function draw(): Promise<void> {
    const days = Number(within.value);
    const r = await api<{
      certificates: { client_id: string; subject: string; not_after: string; days_remaining: number }[];
      mappings: { client_id: string; kind: string; value: string; not_after: string; days_remaining: number; replaced_by: string | null }[];
    }>('GET', `/admin/expiry?within=${days}d`);
    const items: Item[] = [
      ...r.certificates.map((c) => ({ client_id: c.client_id, what: 'last-seen certificate', detail: c.subject, not_after: c.not_after, days: c.days_remaining })),
      ...r.mappings.map((m) => ({
        client_id: m.client_id,
        what: `mapping (${m.kind})${m.replaced_by ? ', replacement staged' : ''}`,
        detail: m.value,
        not_after: m.not_after,
        days: m.days_remaining,
      })),
    ].sort((a, b) => a.days - b.days);
    replace(
      area,
      expiryChart(items, days),
      h(
        'ul',
        { class: 'legend', 'aria-label': 'Chart legend' },
        h('li', {}, '✗ expired'),
        h('li', {}, '◆ within 7 days'),
        h('li', {}, '● later'),
        h('li', {}, 'shaded bands: 7, 14 and 30 days'),
      ),
      items.length
        ? h(
            'table',
            {},
            h('caption', {}, `What ends within ${days} days`),
            h('thead', {}, h('tr', {}, ...['Client', 'What', 'Subject or value', 'Not after', 'Days left', 'Band'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              ...items.map((i) =>
                h(
                  'tr',
                  { class: `row-${band(i.days).replace(/ /g, '-')}` },
                  h('th', { scope: 'row' }, h('a', { href: `#/clients/${enc(i.client_id)}` }, i.client_id)),
                  h('td', {}, i.what),
                  h('td', {}, h('code', {}, i.detail)),
                  h('td', {}, fmtDate(i.not_after)),
                  h('td', {}, String(i.days)),
                  h('td', {}, band(i.days)),
                ),
              ),
            ),
          )
        : h('p', {}, `Nothing ends within ${days} days.`),
    );
  }
  within.addEventListener('change', () => void draw());
  replace(ctx.main, h('h1', {}, 'Expiry'), h('p', {}, h('label', { for: within.id }, 'Show the next '), within), area);
  await draw();
}
