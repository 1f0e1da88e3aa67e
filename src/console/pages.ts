/**
 * The console's server-rendered HTML: the shell the script fills in, and the pages that explain why the
 * browser is not signed in (no certificate, not an administrator's, a session that is no longer good).
 * No inline script or style (the CSP forbids both); every value is escaped.
 */
import type { ConsoleManifest } from './assets.js';

export const CONSOLE_PATH = '/admin/console';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, manifest: ConsoleManifest | undefined, body: string, script = false): string {
  const css = manifest ? `<link rel="stylesheet" href="${CONSOLE_PATH}/assets/${escapeHtml(manifest.css)}">` : '';
  const js = script && manifest ? `<script type="module" src="${CONSOLE_PATH}/assets/${escapeHtml(manifest.js)}"></script>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · certbound console</title>${css}${js}</head>
<body>${body}</body></html>`;
}

/** The single page the script renders the console into. */
export function shellPage(manifest: ConsoleManifest): string {
  return page(
    'Admin console',
    manifest,
    '<a class="skip" href="#main">Skip to content</a><div id="app"><main id="main"><p>Loading the console…</p></main></div><noscript><p>The console needs JavaScript. The admin API (/admin/openapi.json) and the certbound command work without it.</p></noscript>',
    true,
  );
}

export interface Explanation {
  status: number;
  title: string;
  /** Sentences, one paragraph each. */
  paragraphs: string[];
  /** Who the server saw on this connection. */
  seen?: { subject: string; thumbprint: string; clients?: string[] } | undefined;
  /** What to do, said before the commands. */
  todo?: string;
  /** What to run, one command a line. */
  commands?: string[];
  /** A link back in, e.g. after signing out. */
  retry?: boolean;
}

export function explanationPage(explanation: Explanation, manifest: ConsoleManifest | undefined): string {
  const seen = explanation.seen
    ? `<h2>Who this server saw</h2><dl class="seen"><dt>Certificate subject</dt><dd><code>${escapeHtml(explanation.seen.subject || '(empty)')}</code></dd><dt>Thumbprint (x5t#S256)</dt><dd><code>${escapeHtml(explanation.seen.thumbprint)}</code></dd>${
        explanation.seen.clients
          ? `<dt>Client it authenticates</dt><dd>${explanation.seen.clients.length ? explanation.seen.clients.map((c) => `<code>${escapeHtml(c)}</code>`).join(', ') : 'none registered'}</dd>`
          : ''
      }</dl>`
    : '';
  const todo = explanation.todo ? `<p>${escapeHtml(explanation.todo)}</p>` : '';
  const commands = explanation.commands?.length ? `<pre class="command"><code>${explanation.commands.map(escapeHtml).join('\n')}</code></pre>` : '';
  const whatToDo = todo || commands ? `<h2>What to do</h2>${todo}${commands}` : '';
  const retry = explanation.retry ? `<p><a href="${CONSOLE_PATH}/">Open the console again</a></p>` : '';
  return page(
    explanation.title,
    manifest,
    `<main id="main" class="explain"><h1>${escapeHtml(explanation.title)}</h1>${explanation.paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join('')}${seen}${whatToDo}${retry}<p class="muted">certbound admin console · <a href="/admin/openapi.json">admin API</a></p></main>`,
  );
}
