/**
 * The end user's pages (sign-in status, consent, errors): server-rendered HTML with one inline style
 * sheet allowed by its hash, no script, no external asset, and a CSP that allows nothing else. Every
 * value is escaped.
 */
import { createHash } from 'node:crypto';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}' +
  'h1{font-size:1.4rem}ul{padding-left:1.2rem}code{background:#f2f2f2;padding:0 .2rem}' +
  'form{display:flex;gap:1rem;margin-top:1.5rem}button{font-size:1rem;padding:.5rem 1.2rem;cursor:pointer}' +
  '.ref{color:#555;font-size:.9rem}';

const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/**
 * The Content-Security-Policy of a page: nothing but the one style sheet above; forms post back here
 * only, and where a form's answer ends in a redirect elsewhere, to that origin too. Browsers check
 * form-action against every redirect that follows a form's submission: the consent form posts here,
 * and the answer (a code, or access_denied) is a redirect to the client's registered redirect URI,
 * which a form-action of 'self' alone would block.
 *
 * `formTargets` are origins (scheme://host[:port], as URL.origin gives them: no character that could
 * end a directive).
 */
export function pageCsp(formTargets: readonly string[] = []): string {
  const targets = formTargets.filter((o) => /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(o));
  return `default-src 'none'; style-src '${STYLE_HASH}'; form-action 'self'${targets.map((o) => ` ${o}`).join('')}; frame-ancestors 'none'; base-uri 'none'`;
}

/** The policy of a page without a form that leaves this server. */
export const PAGE_CSP = pageCsp();

/** The headers every page is sent with. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PAGE_CSP,
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}

/** An error page: what went wrong in the `<h1>`, what to do below it, and the ref the log line carries. */
export function errorPage(title: string, explanation: string, ref?: string): string {
  return page(title, `<main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(explanation)}</p>${ref ? `<p class="ref">Reference: <code>${escapeHtml(ref)}</code></p>` : ''}</main>`);
}

export interface ConsentView {
  /** The client's client_name, or its client_id. */
  clientName: string;
  clientId: string;
  /** Each resource server with the scopes asked for at it. */
  resources: { identifier: string; scopes: string[] }[];
  /** Where the form posts to. */
  action: string;
  /** The anti-CSRF value the form carries back (double-submitted with a cookie). */
  csrf: string;
}

/** The consent page: the client, each resource and its scopes, allow or deny. */
export function consentPage(view: ConsentView): string {
  const name = view.clientName === view.clientId ? `<code>${escapeHtml(view.clientId)}</code>` : `${escapeHtml(view.clientName)} (<code>${escapeHtml(view.clientId)}</code>)`;
  const resources = view.resources
    .map((r) => `<li>at <code>${escapeHtml(r.identifier)}</code>: ${r.scopes.length ? r.scopes.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ') : 'no scope'}</li>`)
    .join('');
  return page(
    'Allow access?',
    `<main><h1>Allow access?</h1><p>${name} asks to act on your behalf with these scopes:</p><ul>${resources}</ul>` +
      `<form method="post" action="${escapeHtml(view.action)}"><input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">` +
      '<button type="submit" name="decision" value="allow">Allow</button><button type="submit" name="decision" value="deny">Deny</button></form>' +
      '<p class="ref">Your answer is remembered for this application; an administrator can revoke it.</p></main>',
  );
}
