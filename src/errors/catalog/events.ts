/**
 * Every `event` a server log line carries (pino, one JSON line each). A test keeps this list equal to the
 * events logged in src/ and checks that no log call goes without one.
 */
export interface LogEvent {
  /** When it is logged and what the line carries besides the message. */
  readonly meaning: string;
}

export const LOG_EVENTS = {
  listening: { meaning: 'the server listens; with `issuer`, the URLs of its listeners and the database client' },
  database_migrated: { meaning: 'migrations were applied at start, with `applied`' },
  signing_key_created: { meaning: 'development mode created the first signing key' },
  dev_pki_created: { meaning: 'development mode created a development PKI, with `dir`' },
  client_auth_refused: {
    meaning:
      'a client authentication or a forwarded-certificate header was refused, with `reason` (a refusal code), `ref`, `client_id`, `x5t`, and `diagnosis` for certificate refusals',
  },
  oauth_error: { meaning: 'any other OAuth error answer, with `route`, `error`, `error_description` and `client_id`' },
  admin_auth_refused: { meaning: 'an admin request without a valid admin token, with `reason` (a verifier code), `status` and `path`' },
  admin_request_refused: { meaning: 'an admin request refused with a 4xx code, with `code`, `message` and `path`' },
  console_sign_in: { meaning: 'an administrator signed in to the console with its certificate, with `client_id` and `x5t`' },
  console_sign_out: { meaning: 'a console session was ended by its administrator, with `client_id`' },
  console_session_ended: { meaning: 'the server ended a console session, with `reason` (a console code), `client_id` and `detail`' },
  console_session_error: { meaning: 'the console session endpoint failed with an internal error, with `err`' },
  admin_change: { meaning: 'a change through the admin API, with `actor`, `operation`, `path` and `status`' },
  admin_internal_error: { meaning: 'an admin request failed with an internal error (`ERR_INTERNAL`), with `err`, `path` and `method`' },
  admin_api_load_failed: { meaning: 'the admin API could not be loaded; the request got `500 ERR_INTERNAL`' },
  metrics_failed: { meaning: 'collecting the metrics for `/metrics` failed; the request got `500 ERR_INTERNAL`' },
  client_registered: { meaning: 'a client registered itself (`POST /register`), with `client_id`, `status` (active or pending) and `initial_access_token` (its id)' },
  client_registration_changed: { meaning: 'a registration was changed through its registration client URI (RFC 7592), with `client_id` and `change` (update or delete)' },
  registration_refused: { meaning: 'a registration or registration management request was refused, with `code`, `member`, `client_id` and `error`' },
  registration_failed: { meaning: 'a registration request failed with an internal error; the caller got `server_error` with the `ref`' },
  jwks_uri_fetch_failed: { meaning: "a client's `jwks_uri` could not be fetched, with `uri` and `err`" },
  last_seen_failed: { meaning: 'recording the last-seen certificate of a client failed, with `client_id` and `err`' },
  crl_refreshed: { meaning: 'a CRL was fetched again and changed, with `crl_id`, `anchor` and `issuer`' },
  crl_refresh_failed: { meaning: 'a CRL could not be refreshed; the stored one stays in use' },
  crl_invalid: { meaning: 'a stored CRL does not verify and is ignored, with `crl_id`, `anchor` and `error`' },
  trust_anchors_reloaded: { meaning: 'the trust anchors changed and were reloaded, with `count`' },
  signing_keys_reloaded: { meaning: 'the signing keys changed and were reloaded, with `kids`' },
  signing_keys_no_active: { meaning: 'the signing keys changed but none is active; the previous keys stay in use' },
  reload_failed: { meaning: 'a reload of trust anchors and keys failed; the server keeps the current ones and tries again' },
  tokens_purged: { meaning: 'expired tokens were purged, with `purged`' },
  purge_failed: { meaning: 'the purge of expired tokens failed; it is tried again at the next interval' },
  database_unavailable: { meaning: 'the database does not answer; requests get `503 temporarily_unavailable` (docs/reliability.md)' },
  request_refused_busy: { meaning: '`CERTBOUND_MAX_PENDING_REQUESTS` is reached; requests get `503 temporarily_unavailable`' },
  request_failed: { meaning: 'a request failed with an internal error; it got `500 server_error` with the `ref`' },
  readiness_failed: { meaning: 'the readiness check could not reach the database' },
  http_error: { meaning: 'an HTTP response failed inside oidc-provider' },
  token_binding_refused: {
    meaning: 'a refresh token was presented with another certificate than the one it is bound to, or with none (RFC 8705 §4), with `reason`, `ref`, `client_id` and `x5t`',
  },
  authorization_page_refused: {
    meaning:
      'the authorization endpoint refused a request it cannot send back to the client (unknown client, unregistered redirect_uri) with an error page, with `ref`, `error` and `error_description`',
  },
  end_user_signed_in: { meaning: 'an end user completed the sign-in of an authorization request, with `account_id`, `issuer` and `client_id`' },
  consent_decided: { meaning: 'an end user answered a consent page, with `decision` (allow or deny), `client_id`, `account_id` and the `resources`' },
  sign_in_refused: { meaning: 'a sign-in or consent page refused the request (expired, another browser, a forged form), with `ref`, `status` and `reason`' },
  sign_in_failed: { meaning: 'the end-user login failed or is unavailable; the user got an error page with the `ref`, with `status`, `code` and `err`' },
  upstream_discovered: { meaning: "the upstream OpenID Provider's discovery document was fetched (once per issuer and configuration change), with `issuer`" },
  upstream_login_succeeded: { meaning: "an end user signed in at the upstream provider, with `issuer` and `account_id` (the configured subject claim's value)" },
  upstream_login_refused: {
    meaning: "a sign-in at the upstream provider was refused (`UPSTREAM_LOGIN_FAILED`), with `reason`, `issuer`, and the upstream's `error` or the library's `detail`",
  },
  upstream_unavailable: { meaning: 'the upstream provider could not be used (`UPSTREAM_UNAVAILABLE`, `UPSTREAM_NOT_CONFIGURED`), with `code`, `reason`, `issuer` and `detail`' },
} as const satisfies Record<string, LogEvent>;

export type LogEventName = keyof typeof LOG_EVENTS;
