/**
 * The one extension point of end-user sign-in: how certbound learns who the end user is. The server
 * calls `begin` when an authorization request needs a signed-in user (the browser is sent to the URL it
 * returns) and `finish` when the browser comes back to the callback URL; the `sub` `finish` returns is
 * the user certbound issues tokens for. The default is the upstream OpenID Provider an administrator
 * configures (upstream-login.ts); a deployment that signs users in otherwise passes its own
 * `EndUserLogin` to `startServer` (`login`). docs/authorization-code.md describes the contract.
 */

/** What `begin` hands the server to keep until the callback; `state` is the callback's `state` parameter. */
export interface PendingLogin {
  state: string;
}

/** The user as the login verified it. */
export interface VerifiedUser {
  /** The subject certbound issues tokens for. */
  sub: string;
  claims: Record<string, unknown>;
  issuer: string;
}

export interface EndUserLogin<P extends PendingLogin = PendingLogin> {
  /** Where to send the browser to sign in; `pending` is kept by the server (in SQL) until the callback. */
  begin(input: { callbackUrl: string }): Promise<{ url: string; pending: P }>;
  /**
   * Completes the sign-in from the callback request's full URL, or throws: a `CertboundError` with a 4xx
   * status for a sign-in that failed (its message is shown to the user), a 5xx one for a login service
   * that is down or not configured.
   */
  finish(input: { callbackUrl: string; currentUrl: URL; pending: P }): Promise<VerifiedUser>;
}
