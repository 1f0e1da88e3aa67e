/**
 * Expiry: mapped and last-seen certificates on a timeline with 30/14/7-day bands, and the same in a
 * table. The chart is SVG drawn here (a title, a description, and a text label on every mark), so it
 * needs no chart library and reads with a screen reader; the table beneath holds every value.
 */
import { api, enc } from '../api.js';
import { fmtDate, h, replace, svg } from '../dom.js';
import type { Ctx } from '../main.js';

interface Item {
  client_id: string;
  what: string;
  detail: string;
  not_after: string;
  days: number;
}

const band = (days: number) => (days < 0 ? 'expired' : days <= 7 ? 'within 7 days' : days <= 14 ? 'within 14 days' : days <= 30 ? 'within 30 days' : 'later');

function chart(items: Item[], windowDays: number): SVGElement {
  const W = 760;
  const left = 150;
  const right = 20;
  const row = 22;
  const top = 30;
  const H = top + Math.max(items.length, 1) * row + 30;
  const min = -7;
  const x = (d: number) => left + ((Math.max(min, Math.min(windowDays, d)) - min) / (windowDays - min)) * (W - left - right);
  const bands: [number, number, string, string][] = [
    [min, 0, 'band-expired', 'expired'],
    [0, 7, 'band-7', '≤ 7 days'],
    [7, 14, 'band-14', '≤ 14 days'],
    [14, 30, 'band-30', '≤ 30 days'],
  ];
  const counts = ['expired', 'within 7 days', 'within 14 days', 'within 30 days'].map((b) => `${items.filter((i) => band(i.days) === b).length} ${b}`).join(', ');
  return svg(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': 'expiry-title expiry-desc', class: 'chart' },
    svg('title', { id: 'expiry-title' }, `Certificate and mapping expiry over the next ${windowDays} days`),
    svg('desc', { id: 'expiry-desc' }, `${items.length} certificates or mappings end within ${windowDays} days: ${counts}. The table below lists them.`),
    ...bands
      .filter(([a]) => a < windowDays)
      .map(([a, b, cls, label]) => [
        svg('rect', { x: x(a), y: top - 10, width: x(Math.min(b, windowDays)) - x(a), height: H - top - 10, class: cls }),
        svg('text', { x: x(a) + 3, y: top - 14, class: 'band-label' }, label),
      ]),
    svg('line', { x1: x(0), x2: x(0), y1: top - 10, y2: H - 20, class: 'today' }),
    svg('text', { x: x(0) + 3, y: H - 6, class: 'axis' }, 'today'),
    svg('text', { x: W - right, y: H - 6, class: 'axis', 'text-anchor': 'end' }, `+${windowDays} d`),
    ...items.map((i, n) => {
      const y = top + n * row + row / 2;
      return svg(
        'g',
        {},
        svg('text', { x: left - 8, y: y + 4, class: 'label', 'text-anchor': 'end' }, i.client_id.length > 20 ? `${i.client_id.slice(0, 19)}…` : i.client_id),
        svg('line', { x1: x(min), x2: x(i.days), y1: y, y2: y, class: 'stem' }),
        // shape as well as position: a cross for expired, a diamond for ≤ 7 days, a dot otherwise
        i.days < 0
          ? svg('path', { d: `M${x(i.days) - 5},${y - 5}l10,10m0,-10l-10,10`, class: 'mark expired' })
          : i.days <= 7
            ? svg('path', { d: `M${x(i.days)},${y - 6}l6,6l-6,6l-6,-6z`, class: 'mark urgent' })
            : svg('circle', { cx: x(i.days), cy: y, r: 5, class: 'mark' }),
        svg('text', { x: Math.min(x(i.days) + 9, W - 60), y: y + 4, class: 'value' }, `${i.days} d`),
      );
    }),
  );
}

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
      chart(items, days),
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
