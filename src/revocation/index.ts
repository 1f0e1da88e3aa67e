export { type CrlSource, type FetchCrl, fetchCrlSource } from './crl-source.js';
export { loadVerifiedCrls, refreshStoredCrl } from './stored-crls.js';
