/** RFC 6750 §3: `error_description` and `realm` stay within %x20-21 / %x23-5B / %x5D-7E (no `"`, no `\`). */
export function safeQuoted(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/** RFC 6750 §3: scope tokens are %x21 / %x23-5B / %x5D-7E, separated by single spaces. */
export function safeScope(value: string): string {
  return value
    .split(' ')
    .map((token) => token.replace(/[^\x21\x23-\x5b\x5d-\x7e]/g, ''))
    .filter(Boolean)
    .join(' ');
}

/** Builds `Bearer realm="…", error="…", error_description="…", scope="…"`, each parameter at most once. */
export function bearerChallenge(params: { realm?: string | undefined; error?: string | undefined; description?: string | undefined; scope?: string | undefined }): string {
  const parts: string[] = [];
  if (params.realm !== undefined) parts.push(`realm="${safeQuoted(params.realm)}"`);
  if (params.error !== undefined) parts.push(`error="${safeQuoted(params.error)}"`);
  if (params.error !== undefined && params.description) parts.push(`error_description="${safeQuoted(params.description)}"`);
  if (params.scope) parts.push(`scope="${safeScope(params.scope)}"`);
  return parts.length ? `Bearer ${parts.join(', ')}` : 'Bearer';
}
