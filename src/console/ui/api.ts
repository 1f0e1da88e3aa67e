/**
 * The admin API, called with the console session: the cookie goes along by itself (same origin), and
 * every change carries the session's anti-CSRF token in a header.
 */
export interface Session {
  client_id: string;
  subject: string;
  'x5t#S256': string;
  scope: string;
  read_only: boolean;
  /** Every scope of the client (the command that grants certbound:admin keeps them). */
  client_scope: string;
  csrf_token: string;
  csrf_header: string;
  expires_at: string;
  admin_resource: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string | undefined,
    readonly field: string | undefined,
  ) {
    super(message);
  }
}

let session: Session | undefined;
/** Told when the session is no longer good (the page then says so and offers to sign in again). */
let onSessionEnded: (err: ApiError) => void = () => {};

export function setSession(s: Session, ended: (err: ApiError) => void): void {
  session = s;
  onSessionEnded = ended;
}

export async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && session) headers[session.csrf_header] = session.csrf_token;
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) {
    const details = json.details as { field?: string } | undefined;
    const err = new ApiError(
      res.status,
      String(json.code ?? 'ERR_HTTP'),
      String(json.message ?? `HTTP ${res.status}`),
      json.hint === undefined ? undefined : String(json.hint),
      details?.field,
    );
    if (res.status === 401 && String(json.code).startsWith('ERR_CONSOLE')) onSessionEnded(err);
    throw err;
  }
  return json as T;
}

export const enc = encodeURIComponent;
