/** The leaf-policy step (H15-4): the token endpoint's own function, on both of its paths. */
import { checkLeafPolicy, type ParsedCertificate } from '../../pki/index.js';
import type { ChainResult } from '../chain.js';
import type { AddFinding } from '../findings.js';

/** Records the leaf policy's violations; whether the EKU allows TLS client authentication. */
export function checkLeaf(leaf: ParsedCertificate, chain: ChainResult, add: AddFinding): boolean {
  const chainAnchor = chain.status === 'complete' ? chain.anchor?.anchor : undefined;
  const leafViolations = checkLeafPolicy(leaf, { allowMissingEku: chainAnchor?.allowMissingEku === true });
  for (const v of leafViolations) {
    const hint =
      v.code === 'EKU_MISSING' && chainAnchor
        ? `Reissue the certificate with Extended Key Usage clientAuth (1.3.6.1.5.5.7.3.2). Only for a legacy CA that never issues EKU: re-add the trust anchor ${chainAnchor.name} with certbound trust add --allow-no-eku (admin API: allow_missing_eku).`
        : undefined;
    add(v.code, v.message, 'error', hint);
  }
  return !leafViolations.some((v) => v.code === 'EKU_NOT_CLIENT_AUTH' || v.code === 'EKU_MISSING');
}
