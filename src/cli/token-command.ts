/**
 * `certbound token`: a client of any RFC 8705 authorization server. It prints a certificate-bound access
 * token for scripts (`curl -H "Authorization: Bearer $(certbound token …)"`), and needs neither the
 * database nor certbound's configuration. The client library is loaded only when the command runs.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { type ErrorCode, InvalidInputError } from '../errors/index.js';
import { CliExit } from './diagnose-commands.js';
import { formatCliError } from './error-output.js';
import { load } from './modules.js';

interface Io {
  out(text: string): void;
  err(text: string): void;
}

interface TokenCommandOptions {
  issuer: string;
  clientId: string;
  cert: string;
  key: string;
  ca?: string;
  resource?: string;
  scope?: string;
  json?: boolean;
  allowUnbound?: boolean;
}

/** The CLI codes of the client library's refusals of the --cert and --key files (bad input, exit 2). */
const CREDENTIAL_CODES: Readonly<Partial<Record<string, ErrorCode>>> = { CERTIFICATE_UNREADABLE: 'ERR_CERTIFICATE_UNREADABLE', KEY_MISMATCH: 'ERR_KEY_MISMATCH' };

/** Exit status when the server refused or no bound token could be obtained (2 stays "bad input"). */
export const TOKEN_FAILED_EXIT = 1;

/**
 * Registers `certbound token` on the program.
 *
 * @example
 * registerTokenCommand(program, { io });
 */
export function registerTokenCommand(program: Command, { io }: { io: Io }): void {
  program
    .command('token')
    .description(
      'get a certificate-bound access token from an RFC 8705 authorization server (any, not only certbound) over mTLS and print it: the token alone, or --json. Needs no database or certbound configuration. Exit 0: printed; 1: refused or unavailable; 2: bad input.',
    )
    .requiredOption('--issuer <url>', 'the authorization server issuer (https), exactly as its metadata names it')
    .requiredOption('--client-id <id>', 'client_id')
    .requiredOption('--cert <file>', 'the client certificate (PEM), followed by any intermediates')
    .requiredOption('--key <file>', 'the private key of the certificate (PEM)')
    .option('--ca <file>', "the CA (PEM) that signed the server's certificate, when it is private")
    .option('--resource <uri>', "the API the token is for (RFC 8707); omitted: the client's default")
    .option('--scope <scopes>', 'space-separated scopes')
    .option('--json', 'print {"access_token","token_type","expires_in","scope","cnf_x5t_s256"}')
    .option('--allow-unbound', 'accept a JWT access token that is not bound to the certificate (default: refuse it)')
    .action(async (opts: TokenCommandOptions) => {
      let ca: string | undefined;
      if (opts.ca !== undefined) {
        try {
          ca = readFileSync(opts.ca, 'utf8');
        } catch (err) {
          throw new InvalidInputError('ERR_FILE_UNREADABLE', `cannot read --ca ${opts.ca}: ${(err as Error).message}`, {
            hint: 'Give a readable PEM file with the CA certificate.',
          });
        }
      }
      const { CertboundClientError, createTokenClient } = await load.client();
      let client: ReturnType<typeof createTokenClient> | undefined;
      try {
        try {
          client = createTokenClient({
            issuer: opts.issuer,
            clientId: opts.clientId,
            credentials: { certFile: opts.cert, keyFile: opts.key },
            ...(ca ? { tls: { ca } } : {}),
            requireBound: opts.allowUnbound !== true,
            watch: false,
          });
        } catch (err) {
          if (err instanceof TypeError) throw new InvalidInputError('ERR_TOKEN_OPTIONS_INVALID', err.message);
          if (err instanceof CertboundClientError) throw new InvalidInputError(CREDENTIAL_CODES[err.code] ?? `ERR_${err.code}`, err.message, { hint: err.hint });
          throw err;
        }
        const token = await client.getToken({ ...(opts.resource ? { resource: opts.resource } : {}), ...(opts.scope ? { scope: opts.scope } : {}) });
        if (!opts.json) {
          io.out(token.accessToken);
          return;
        }
        const expiresIn = token.expiresAt ? Math.max(0, Math.round((token.expiresAt.getTime() - Date.now()) / 1000)) : null;
        io.out(
          JSON.stringify(
            { access_token: token.accessToken, token_type: token.tokenType, expires_in: expiresIn, scope: token.scope ?? null, cnf_x5t_s256: token.thumbprint },
            null,
            2,
          ),
        );
      } catch (err) {
        if (!(err instanceof CertboundClientError)) throw err;
        const details = [
          ...(err.oauthError ? [`error: ${err.oauthError}`] : []),
          ...(err.errorDescription ? [`error_description: ${err.errorDescription}`] : []),
          ...(err.ref ? [`ref: ${err.ref} (the authorization server's log has the details under it)`] : []),
        ];
        const hints = [
          ...(err.hint ? [err.hint] : []),
          `On the authorization server, \`certbound doctor --cert ${opts.cert} --client-id ${opts.clientId}\` explains whether this certificate authenticates as this client, and if not, why.`,
        ];
        io.err(formatCliError({ message: err.message, details, hints }));
        throw new CliExit(TOKEN_FAILED_EXIT);
      } finally {
        await client?.close();
      }
    });
}
