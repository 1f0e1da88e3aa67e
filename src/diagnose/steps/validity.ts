/** The validity step: the leaf's and the path's CA certificates' validity periods at `now`. */
import type { ParsedCertificate } from '../../pki/index.js';
import type { ChainResult } from '../chain.js';
import type { AddFinding } from '../findings.js';
import type { Diagnosis } from '../types.js';
import { DAY_MS } from './dates.js';

export function checkValidity(leaf: ParsedCertificate, chain: ChainResult, now: Date, add: AddFinding): Diagnosis['certificate']['validity'] {
  const daysRemaining = Math.floor((leaf.notAfter.getTime() - now.getTime()) / DAY_MS);
  let validityStatus: Diagnosis['certificate']['validity']['status'] = 'valid';
  let validityMessage = `Valid until ${leaf.notAfter.toISOString()} (expires in ${daysRemaining} day${daysRemaining === 1 ? '' : 's'}).`;
  if (now.getTime() > leaf.notAfter.getTime()) {
    validityStatus = 'expired';
    validityMessage = `Expired on ${leaf.notAfter.toISOString()} (${-daysRemaining} day${daysRemaining === -1 ? '' : 's'} ago).`;
    add('CERT_EXPIRED', `The client certificate expired on ${leaf.notAfter.toISOString()}.`);
  } else if (now.getTime() < leaf.notBefore.getTime()) {
    validityStatus = 'not_yet_valid';
    validityMessage = `Not valid before ${leaf.notBefore.toISOString()}.`;
    add('CERT_NOT_YET_VALID', `The client certificate is not valid before ${leaf.notBefore.toISOString()}; check the clocks or the certificate.`);
  }
  for (const ca of chain.path.slice(1)) {
    if (now.getTime() > ca.parsed.notAfter.getTime()) {
      add(
        'CERT_EXPIRED',
        `The CA certificate ${ca.parsed.subjectRfc4514} on the chain expired on ${ca.parsed.notAfter.toISOString()}.`,
        'error',
        'Renew that CA certificate (or send the renewed intermediate).',
      );
    } else if (now.getTime() < ca.parsed.notBefore.getTime()) {
      add('CERT_NOT_YET_VALID', `The CA certificate ${ca.parsed.subjectRfc4514} on the chain is not valid before ${ca.parsed.notBefore.toISOString()}.`);
    }
  }
  return { status: validityStatus, days_remaining: daysRemaining, message: validityMessage };
}
