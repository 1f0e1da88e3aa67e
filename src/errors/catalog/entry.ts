/**
 * The shape of one catalog entry. Every code a person or a program can meet has one: its HTTP status
 * where it has one, the surfaces it appears on, what it means (one line) and what to do next (the hint).
 * docs/errors.md is generated from these entries (`npm run docs:errors`).
 */

/**
 * Where a code reaches its reader: `oauth` the token, introspection and revocation endpoints (RFC 6749
 * §5.2 bodies); `admin-api` the `/admin` JSON bodies; `cli` the `certbound` command's standard error;
 * `log` the server's log lines; `doctor` the diagnosis (`certbound doctor`, `POST /admin/diagnose`, the
 * refusal line's `diagnosis`); `metrics` a Prometheus label; `verifier` `certbound/verifier`; `client`
 * `certbound/client`; `start-up` `certbound serve` refusing to start; `console` the admin console's pages; `sign-in` the
 * pages an end user sees while signing in (the authorization code flow's interactions).
 */
export type Surface = 'oauth' | 'admin-api' | 'cli' | 'log' | 'doctor' | 'metrics' | 'verifier' | 'client' | 'start-up' | 'console' | 'sign-in';

export interface CatalogEntry {
  /** The HTTP status the code is answered with, where it has one. */
  readonly status?: number;
  /** The RFC 6749 / RFC 6750 `error` a remote caller sees instead of the code, where one does. */
  readonly oauthError?: string;
  readonly surfaces: readonly Surface[];
  /** When it happens, in one line. */
  readonly meaning: string;
  /** What to do next: the default hint; a throw site may give a more precise one. */
  readonly hint: string;
}

/** A group of entries, keyed by their code. */
export type CatalogGroup<C extends string = string> = Readonly<Record<C, CatalogEntry>>;

/** Code → hint of a group, for the modules that hand out default hints by code. */
export function hintsOf<C extends string>(group: CatalogGroup<C>): Readonly<Record<C, string>> {
  return Object.freeze(Object.fromEntries(Object.entries<CatalogEntry>(group).map(([code, entry]) => [code, entry.hint]))) as Record<C, string>;
}
