/** The `cnf.x5t#S256` binding (RFC 8705 §3, §3.3 rows 4–9): what a token demands, and whether a request meets it. */
import { isWellFormedX5tS256, sameWellFormedThumbprints } from '../../pki/thumbprint.js';
import type { VerifierError } from '../errors.js';
import type { PeerCertificate } from './peer-certificate.js';
import type { Refusals } from './refusals.js';

/** The `cnf` decision: the thumbprint the certificate must have (undefined: unbound and allowed), or the refusal. */
export type Binding = { expected: string | undefined } | { refuse: () => VerifierError };

/** §3.3 rows 4–6: what the token's `cnf` demands, decided once per verified token. */
export function bindingOf(claims: Record<string, unknown>, requireBoundTokens: boolean, refusals: Refusals): Binding {
  const cnf = claims.cnf;
  if (cnf === undefined) {
    if (requireBoundTokens) return { refuse: () => refusals.invalidToken('ERR_VERIFIER_TOKEN_UNBOUND', 'token is not certificate-bound') };
    return { expected: undefined };
  }
  if (!cnf || typeof cnf !== 'object' || Array.isArray(cnf))
    return { refuse: () => refusals.invalidToken('ERR_VERIFIER_CNF_UNSUPPORTED', 'unsupported confirmation method', { detail: 'cnf is not an object' }) };
  const members = Object.keys(cnf);
  // SC-2 / BT-12: only x5t#S256 is understood; an unknown (or additional, e.g. jkt) method cannot be checked here.
  if (!members.includes('x5t#S256') || members.length !== 1) {
    const detail = `cnf members: ${members.join(',')}`;
    return { refuse: () => refusals.invalidToken('ERR_VERIFIER_CNF_UNSUPPORTED', 'unsupported confirmation method', { detail }) };
  }
  const expected = (cnf as Record<string, unknown>)['x5t#S256'];
  if (!isWellFormedX5tS256(expected)) return { refuse: () => refusals.invalidToken('ERR_VERIFIER_THUMBPRINT_MALFORMED', 'malformed certificate thumbprint') };
  return { expected };
}

/** §3.3 rows 4–9 on every request: the token's binding against this request's certificate; the bound thumbprint. */
export function checkBinding(binding: Binding, certificate: PeerCertificate | undefined, refusals: Refusals): string | undefined {
  if ('refuse' in binding) throw binding.refuse();
  if (binding.expected === undefined) return undefined;
  if (!certificate) throw refusals.invalidToken('ERR_VERIFIER_CERTIFICATE_REQUIRED', 'certificate-bound token requires mTLS');
  if (!sameWellFormedThumbprints(binding.expected, certificate.x5t)) throw refusals.invalidToken('ERR_VERIFIER_CERTIFICATE_MISMATCH', 'certificate does not match the token');
  return binding.expected;
}
