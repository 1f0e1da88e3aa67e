/**
 * how many certificates a client may present, leaf and intermediates (the trust anchor is not
 * counted). One number for every path that sees a chain: the mTLS listener (OpenSSL's verdict),
 * a trusted proxy's forwarded chain (checked before any path building) and the diagnosis.
 */
export const MAX_CHAIN_CERTIFICATES = 5;
