import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestPki } from './pki.js';

describe('test PKI helper', () => {
  it('builds a chain that node:crypto verifies', async () => {
    const pki = await createTestPki();
    const leaf = await pki.client({ subject: [{ CN: ['client1'] }], san: [{ type: 'dns', value: 'client1.example.com' }] });
    const nodeLeaf = new X509Certificate(leaf.pem);
    expect(nodeLeaf.verify(new X509Certificate(pki.intermediate.pem).publicKey)).toBe(true);
    expect(new X509Certificate(pki.intermediate.pem).verify(new X509Certificate(pki.root.pem).publicKey)).toBe(true);
    expect(nodeLeaf.subjectAltName).toBe('DNS:client1.example.com');
  });
});
