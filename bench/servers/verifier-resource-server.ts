/** A resource server protected by `certbound/verifier` with its default options (token cache on). */
import { createVerifier } from '../../src/verifier/index.js';
import { serveAsChild } from '../lib/child.js';
import { startResourceServer } from '../lib/resource-server.js';

let verify: ((req: Parameters<ReturnType<typeof createVerifier>['verify']>[0]) => Promise<{ clientId: string | undefined }>) | undefined;
const shell = await startResourceServer(async (req) => (await verify!(req)).clientId ?? '');
const verifier = createVerifier({
  issuer: shell.issuer,
  audience: shell.audience,
  jwksUri: shell.jwksUri,
  tls: { ca: shell.ca },
  ...(process.env.BENCH_NOCACHE ? { tokenCache: false as const } : {}),
});
verify = verifier.verify;

serveAsChild({ http: shell.port }, async () => {
  await verifier.close();
  await shell.close();
});
