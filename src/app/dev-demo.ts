/**
 * What development mode registers besides the dev PKI: the demo API and its scopes. A module of its own,
 * free of imports, so that the server's bootstrap and `certbound dev-pki issue-client` name the same API
 * without either loading the other's dependencies (@peculiar/x509, the server).
 */
export const DEMO_CLIENT_ID = 'demo-client';
export const DEMO_RESOURCE = 'https://demo-api.certbound.test';
export const DEMO_SCOPES = ['demo.read', 'demo.write'];
