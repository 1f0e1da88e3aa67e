/**
 * The Expiry timeline, drawn by uPlot (small, dependency-free, canvas; bundled, and it styles its own
 * elements only through the CSSOM, which a strict `style-src 'self'` allows). One row per certificate or
 * mapping, days from today along x, the 30/14/7-day bands and expired span shaded behind. A mark's
 * shape and its "N d" label say what its colour says. A canvas says nothing to a screen reader, so the
 * figure carries a summary, the arrow keys step through the marks with each one read out in words
 * below, and the table beneath stays the full accessible view.
 */
import uPlot from 'uplot';
import { fmtDate, h } from '../dom.js';

export interface Item {
  client_id: string;
  what: string;
  detail: string;
  not_after: string;
  days: number;
}

export const band = (days: number) => (days < 0 ? 'expired' : days <= 7 ? 'within 7 days' : days <= 14 ? 'within 14 days' : days <= 30 ? 'within 30 days' : 'later');

/** How far back the timeline reaches, so recently expired entries still show. */
const BEFORE = -7;
const ROW = 24;
const MAX_WIDTH = 900;

const short = (id: string) => (id.length > 20 ? `${id.slice(0, 19)}…` : id);
const describe = (i: Item) => `${i.client_id}: ${i.what}, ${i.days} days (${band(i.days)}), not after ${fmtDate(i.not_after)}`;

/** Colours come from the stylesheet's custom properties, so the CSS stays their one home. */
function colours(): Record<string, string> {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    fg: v('--fg'),
    muted: v('--muted'),
    line: v('--line'),
    accent: v('--accent'),
    bad: v('--bad'),
    expired: v('--band-expired'),
    b7: v('--band-7'),
    b14: v('--band-14'),
    b30: v('--band-30'),
  };
}

export function expiryChart(items: Item[], windowDays: number): HTMLElement {
  const n = items.length;
  const c = colours();
  const px = uPlot.pxRatio;
  const font = `${Math.round(12 * px)}px system-ui, sans-serif`;
  const clamp = (d: number) => Math.max(BEFORE, Math.min(windowDays, d));
  // Row 0 (the soonest) at the top: uPlot's y grows upwards.
  const rowY = (k: number) => n - 1 - k;
  let selected = -1;

  const counts = ['expired', 'within 7 days', 'within 14 days', 'within 30 days'].map((b) => `${items.filter((i) => band(i.days) === b).length} ${b}`).join(', ');
  const title = `Certificate and mapping expiry over the next ${windowDays} days`;
  const summary = `${n} certificates or mappings end within ${windowDays} days: ${counts}. The table below lists them.`;
  const readout = h('p', { class: 'chart-readout', 'aria-live': 'polite' }, n ? 'Focus the chart and use the arrow keys to read each mark.' : '');
  const plot = h('div', {
    class: 'chart-plot',
    role: 'img',
    tabindex: n ? '0' : undefined,
    'aria-label': `${title}. ${summary}${n ? ' Arrow keys step through the marks.' : ''}`,
  });

  function select(k: number): void {
    selected = Math.max(0, Math.min(n - 1, k));
    readout.textContent = describe(items[selected]!);
    u.redraw(false);
  }

  function bands(u: uPlot): void {
    const { ctx, bbox } = u;
    const x = (d: number) => u.valToPos(d, 'x', true);
    const spans: [number, number, string, string][] = [
      [BEFORE, 0, c.expired!, 'expired'],
      [0, 7, c.b7!, '≤ 7 days'],
      [7, 14, c.b14!, '≤ 14 days'],
      [14, 30, c.b30!, '≤ 30 days'],
    ];
    ctx.save();
    ctx.font = font;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'bottom';
    for (const [a, b, fill, label] of spans) {
      if (a >= windowDays) continue;
      const x0 = x(a);
      const x1 = x(Math.min(b, windowDays));
      ctx.fillStyle = fill;
      ctx.fillRect(x0, bbox.top, x1 - x0, bbox.height);
      ctx.fillStyle = c.fg!;
      ctx.fillText(label, x0 + 3 * px, bbox.top - 2 * px);
    }
    ctx.strokeStyle = c.fg!;
    ctx.lineWidth = px;
    ctx.setLineDash([4 * px, 3 * px]);
    ctx.beginPath();
    ctx.moveTo(x(0), bbox.top);
    ctx.lineTo(x(0), bbox.top + bbox.height);
    ctx.stroke();
    ctx.restore();
  }

  function marks(u: uPlot): void {
    const { ctx, bbox } = u;
    const s = 5 * px;
    ctx.save();
    ctx.font = font;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    items.forEach((i, k) => {
      const x = u.valToPos(clamp(i.days), 'x', true);
      const y = u.valToPos(rowY(k), 'y', true);
      ctx.strokeStyle = c.muted!;
      ctx.lineWidth = px;
      ctx.beginPath();
      ctx.moveTo(u.valToPos(BEFORE, 'x', true), y);
      ctx.lineTo(x, y);
      ctx.stroke();
      // Shape as well as colour: a cross for expired, a diamond for ≤ 7 days, a dot otherwise.
      ctx.beginPath();
      if (i.days < 0) {
        ctx.strokeStyle = c.bad!;
        ctx.lineWidth = 3 * px;
        ctx.moveTo(x - s, y - s);
        ctx.lineTo(x + s, y + s);
        ctx.moveTo(x + s, y - s);
        ctx.lineTo(x - s, y + s);
        ctx.stroke();
      } else {
        ctx.fillStyle = i.days <= 7 ? c.bad! : c.accent!;
        if (i.days <= 7) {
          ctx.moveTo(x, y - 6 * px);
          ctx.lineTo(x + 6 * px, y);
          ctx.lineTo(x, y + 6 * px);
          ctx.lineTo(x - 6 * px, y);
          ctx.closePath();
        } else ctx.arc(x, y, s, 0, 2 * Math.PI);
        ctx.fill();
      }
      ctx.fillStyle = c.fg!;
      ctx.fillText(`${i.days} d`, Math.min(x + 9 * px, bbox.left + bbox.width - 40 * px), y);
      if (k === selected) {
        ctx.strokeStyle = c.fg!;
        ctx.lineWidth = 2 * px;
        ctx.setLineDash([]);
        ctx.strokeRect(x - 10 * px, y - 10 * px, 20 * px, 20 * px);
      }
    });
    ctx.restore();
  }

  const ticks = [BEFORE, 0, 7, 14, 30, ...[60, 90, 180].filter((d) => d <= windowDays)].filter((d) => d <= windowDays);
  const opts: uPlot.Options = {
    width: MAX_WIDTH,
    height: 70 + Math.max(n, 1) * ROW,
    legend: { show: false },
    select: { show: false, left: 0, top: 0, width: 0, height: 0 },
    cursor: { y: false, points: { show: false }, drag: { x: false, y: false } },
    padding: [22, 24, 0, 0],
    scales: { x: { time: false, range: [BEFORE, windowDays] }, y: { range: [-0.6, Math.max(n, 1) - 0.4] } },
    axes: [
      {
        stroke: c.fg,
        font,
        grid: { stroke: c.line, width: 1 },
        splits: () => ticks,
        values: (_u, splits) => splits.map((d) => (d === 0 ? 'today' : `${d > 0 ? '+' : ''}${d} d`)),
      },
      {
        stroke: c.fg,
        font,
        size: 150,
        grid: { show: false },
        ticks: { show: false },
        splits: () => items.map((_i, k) => rowY(k)),
        values: (_u, splits) => splits.map((y) => short(items[n - 1 - y]?.client_id ?? '')),
      },
    ],
    series: [{}, { paths: () => null, points: { show: false } }],
    hooks: {
      drawClear: [bands],
      draw: [marks],
      setCursor: [
        (u) => {
          const idx = u.cursor.idx;
          if (idx !== null && idx !== undefined && idx !== selected) select(idx);
        },
      ],
    },
  };
  const data: uPlot.AlignedData = [items.map((i) => clamp(i.days)), items.map((_i, k) => rowY(k))];
  const u = new uPlot(opts, data, plot);

  plot.addEventListener('keydown', (e) => {
    const step: Record<string, number> = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
    if (e.key in step) select(selected < 0 ? 0 : selected + step[e.key]!);
    else if (e.key === 'Home') select(0);
    else if (e.key === 'End') select(n - 1);
    else return;
    e.preventDefault();
  });
  const figure = h('figure', { class: 'chart' }, h('figcaption', {}, h('strong', {}, title), ' ', summary), plot, readout);
  // Fit the width the page gives it: uPlot sizes its canvas in pixels, not by CSS.
  new ResizeObserver(() => {
    const w = Math.min(MAX_WIDTH, figure.clientWidth);
    if (w > 0 && w !== u.width) u.setSize({ width: w, height: u.height });
  }).observe(figure);
  return figure;
}
