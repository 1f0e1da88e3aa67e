/**
 * Refresh tokens for the `refresh-keepalive` rows, minted the way oidc-provider mints them at the end of
 * an authorization code flow (a Grant for the account and client with the resource's scopes, then a
 * RefreshToken of that grant bound to the client's certificate), without the browser part of the flow,
 * which the rows do not measure. `mintRefreshTokens` takes an oidc-provider instance: the bare provider
 * mints into its own memory; certbound's tokens are written through certbound's own adapter into its
 * database before it starts (`mintCertboundRefreshTokens`, fixtures.ts).
 */
import type Provider from 'oidc-provider';

/** The end user the minted tokens were issued for (certbound takes the sub from the upstream provider; any string serves here). */
export const BENCH_ACCOUNT = 'bench-user';
/** The redirect URI the code-flow client is registered with (never requested). */
export const BENCH_REDIRECT_URI = 'https://app.bench.test/callback';

export interface MintOptions {
  clientId: string;
  resource: string;
  scope: string;
  /** x5t#S256 of the certificate the refresh tokens are bound to. */
  thumbprint: string;
  count: number;
}

export async function mintRefreshTokens(provider: Provider, options: MintOptions): Promise<string[]> {
  const client = await provider.Client.find(options.clientId);
  if (!client) throw new Error(`bench: no client ${options.clientId} to mint refresh tokens for`);
  const tokens: string[] = [];
  for (let i = 0; i < options.count; i++) {
    const grant = new provider.Grant({ accountId: BENCH_ACCOUNT, clientId: options.clientId });
    grant.addResourceScope(options.resource, options.scope);
    const grantId = await grant.save();
    const token = new provider.RefreshToken({
      client,
      accountId: BENCH_ACCOUNT,
      grantId,
      gty: 'authorization_code',
      scope: options.scope,
      resource: options.resource,
      expiresWithSession: false,
      'x5t#S256': options.thumbprint,
    } as never);
    tokens.push(await token.save());
  }
  return tokens;
}
