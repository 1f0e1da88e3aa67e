/**
 * CLI commands for the authorization code flow besides its clients (`client add --grant-types …`):
 * `certbound upstream set|show|remove` (the OpenID Provider end users sign in at), `certbound consent
 * list|revoke` (end users' consents) and `certbound refresh-token list|revoke` (their refresh tokens,
 * by handle). Registered on the program by `buildCli` (one line there).
 */
import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { InvalidInputError } from '../errors/index.js';
import { type CommandContext, splitScopes, table } from './command-context.js';
import { load } from './modules.js';
import { cliActor, readFileArg } from './util.js';

/**
 * A secret from a file, or from standard input for `-`, never from the command line (where `ps` and the
 * shell history would keep it). One final line break is dropped: `echo … > file` adds it.
 */
export function readSecretArg(file: string, flag: string): string {
  let text: string;
  if (file === '-') {
    try {
      text = readFileSync(0, 'utf8');
    } catch (cause) {
      throw new InvalidInputError('ERR_FILE_UNREADABLE', `${flag} -: cannot read standard input (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
    }
  } else {
    text = readFileArg(file, flag);
  }
  return text.replace(/\r?\n$/, '');
}

const when = (d: Date | null) => (d ? d.toISOString() : '-');

export function registerAuthorizationCommands(program: Command, { io, withAdmin, withQueries, print }: CommandContext): void {
  const upstream = program.command('upstream').description('the upstream OpenID Provider end users sign in at for the authorization code flow (certbound is not a user directory)');
  upstream
    .command('set')
    .description("configure (or replace) the upstream provider: its issuer, certbound's client there and its credentials, the scopes, and the claim that becomes the sub")
    .requiredOption('--issuer <url>', 'the issuer identifier of the provider (https; http only on a loopback host)')
    .requiredOption('--client-id <id>', "certbound's client id at the provider")
    .option('--client-secret-file <file>', 'client_secret_basic: a file holding the client secret, or - to read it from standard input (never give it on the command line)')
    .option('--private-key <file>', 'private_key_jwt: the private key certbound signs its client assertions with (a JWK or PEM file); register its public key at the provider')
    .addOption(
      new Option('--auth-method <method>', 'how certbound authenticates at the provider (default: from the credential given)').choices(['client_secret_basic', 'private_key_jwt']),
    )
    .option('--scope <scopes>', 'space-separated scopes asked for; must include openid', 'openid')
    .option('--subject-claim <claim>', 'the ID token claim whose value becomes the sub certbound issues', 'sub')
    .option('--check', "fetch the issuer's discovery document first, and refuse if it does not name this issuer or lacks the auth method")
    .option('--json', 'JSON output')
    .action(
      async (opts: {
        issuer: string;
        clientId: string;
        clientSecretFile?: string;
        privateKey?: string;
        authMethod?: string;
        scope: string;
        subjectClaim: string;
        check?: boolean;
        json?: boolean;
      }) => {
        const authMethod = (opts.authMethod ?? (opts.privateKey !== undefined && opts.clientSecretFile === undefined ? 'private_key_jwt' : 'client_secret_basic')) as
          | 'client_secret_basic'
          | 'private_key_jwt';
        const clientSecret = opts.clientSecretFile === undefined ? undefined : readSecretArg(opts.clientSecretFile, '--client-secret-file');
        const privateKey = opts.privateKey === undefined ? undefined : readFileArg(opts.privateKey, '--private-key');
        const view = await withAdmin((admin) =>
          admin.setUpstream(
            { issuer: opts.issuer, clientId: opts.clientId, authMethod, clientSecret, privateKey, scopes: splitScopes(opts.scope), subjectClaim: opts.subjectClaim },
            cliActor(),
            { check: opts.check === true },
          ),
        );
        const { upstreamJson } = await load.queries();
        print(upstreamJson(view), opts.json, () => `upstream provider ${view.issuer} (client ${view.clientId}, ${view.authMethod})${opts.check ? ': discovery checked' : ''}`);
      },
    );
  upstream
    .command('show')
    .description('show the upstream provider (whether a client secret is set, the public thumbprint of the private key; never either one)')
    .option('--json', 'JSON output')
    .action(async (opts: { json?: boolean }) => {
      const u = await withAdmin((admin) => admin.showUpstream());
      const { upstreamJson } = await load.queries();
      print(upstreamJson(u), opts.json, () =>
        [
          `issuer: ${u.issuer}`,
          `client id: ${u.clientId}`,
          `auth method: ${u.authMethod}`,
          ...(u.authMethod === 'client_secret_basic' ? [`client secret: ${u.clientSecretSet ? 'set' : 'not set'}`] : []),
          ...(u.privateKey
            ? [
                `private key: ${u.privateKey.kty} ${u.privateKey.alg}, public JWK thumbprint ${u.privateKey.thumbprint}${u.privateKey.kid === u.privateKey.thumbprint ? '' : `, kid ${u.privateKey.kid}`}`,
              ]
            : []),
          `scopes: ${u.scopes.join(' ')}`,
          `subject claim: ${u.subjectClaim}`,
          `updated: ${u.updatedAt.toISOString()}`,
        ].join('\n'),
      );
    });
  upstream
    .command('remove')
    .description('remove the upstream provider: end users cannot sign in until one is configured again')
    .action(async () => {
      await withAdmin((admin) => admin.removeUpstream(cliActor()));
      io.out('removed the upstream provider: end users cannot sign in until one is set again');
    });

  const consent = program.command('consent').description("end users' consents to clients (authorization code flow)");
  consent
    .command('list')
    .description('list consents, by client and user')
    .option('--client <id>', 'only this client')
    .option('--user <sub>', 'only this user (the sub certbound issues)')
    .option('--json', 'JSON output')
    .action(async (opts: { client?: string; user?: string; json?: boolean }) => {
      const list = await withQueries((queries) => queries.listConsents({ clientId: opts.client, accountId: opts.user }));
      const { consentJson } = await load.queries();
      print(list.map(consentJson), opts.json, () =>
        list.length
          ? table([
              ['CLIENT', 'USER', 'SCOPES', 'RESOURCES', 'GRANTED'],
              ...list.map((c) => [c.clientId, c.accountId, c.scopes.join(' ') || '-', c.resources.join(' ') || '-', c.grantedAt.toISOString()]),
            ])
          : 'no consents',
      );
    });
  consent
    .command('revoke')
    .description("revoke a user's consent to a client; this also revokes that user's tokens at that client (refresh tokens included), and the next sign-in asks for consent again")
    .requiredOption('--client <id>', 'the client')
    .requiredOption('--user <sub>', 'the user (the sub certbound issues)')
    .action(async (opts: { client: string; user: string }) => {
      const { revokedTokens } = await withAdmin((admin) => admin.revokeConsent(opts.client, opts.user, cliActor()));
      io.out(
        `revoked the consent of user ${opts.user} to client ${opts.client}, and ${revokedTokens} token${revokedTokens === 1 ? '' : 's'} of that user at that client (refresh tokens included)`,
      );
    });

  const refresh = program.command('refresh-token').description("end users' refresh tokens (authorization code flow), by handle: never the tokens themselves");
  refresh
    .command('list')
    .description('list live refresh tokens: handle, client, user, bound certificate (x5t#S256), scopes, issued and expiry')
    .option('--client <id>', 'only this client')
    .option('--user <sub>', 'only this user (the sub certbound issues)')
    .option('--json', 'JSON output')
    .action(async (opts: { client?: string; user?: string; json?: boolean }) => {
      const list = await withQueries((queries) => queries.listRefreshTokens({ clientId: opts.client, accountId: opts.user }));
      const { refreshTokenJson } = await load.queries();
      print(list.map(refreshTokenJson), opts.json, () =>
        list.length
          ? table([
              ['HANDLE', 'CLIENT', 'USER', 'X5T#S256', 'SCOPES', 'ISSUED', 'EXPIRES', 'STATE'],
              ...list.map((t) => [
                t.handle,
                t.clientId,
                t.accountId ?? '-',
                t.x5tS256 ?? 'unbound',
                t.scopes.join(' ') || '-',
                when(t.issuedAt),
                when(t.expiresAt),
                t.consumed ? 'used' : 'live',
              ]),
            ])
          : 'no refresh tokens',
      );
    });
  refresh
    .command('revoke <handle>')
    .description('revoke a refresh token and its grant: the access and refresh tokens issued under it (put -- before a handle that starts with -)')
    .action(async (handle: string) => {
      const { token, revokedTokens } = await withAdmin((admin) => admin.revokeRefreshToken(handle, cliActor()));
      io.out(
        `revoked refresh token ${token.handle} (client ${token.clientId}, user ${token.accountId ?? '-'}) and its grant: ${revokedTokens} token${revokedTokens === 1 ? '' : 's'}`,
      );
    });
}
