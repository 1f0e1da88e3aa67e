import type { Knex } from 'knex';

/**
 * CRLs per trust anchor (PKI-5): each row is one CRL source (a file path or a URL) for a CA of that
 * anchor's PKI (the anchor itself or an intermediate below it, whose certificate is kept to verify the
 * CRL's signature), with the last CRL fetched from it. Servers load the stored CRL, so every replica and
 * the CLI see the same one; the server refreshes it from the source before its nextUpdate.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('trust_anchor_crls', (t) => {
    t.string('id', 36).primary();
    t.string('trust_anchor_id', 36).notNullable().references('id').inTable('trust_anchors').onDelete('CASCADE');
    t.string('source_kind', 8).notNullable();
    t.text('source').notNullable();
    /** PEM of the CA certificate that signs the CRL (the anchor, or an intermediate that chains to it). */
    t.text('issuer_pem').notNullable();
    t.text('issuer_subject').notNullable();
    t.string('issuer_spki_sha256', 64).notNullable();
    /** base64 DER of the last CRL fetched and verified. */
    t.text('crl_der').notNullable();
    t.bigInteger('this_update').notNullable();
    t.bigInteger('next_update').nullable();
    t.integer('revoked_count').notNullable().defaultTo(0);
    t.bigInteger('fetched_at').notNullable();
    t.bigInteger('last_attempt_at').notNullable();
    t.text('last_error').nullable();
    t.bigInteger('created_at').notNullable();
    t.unique(['trust_anchor_id', 'issuer_spki_sha256']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('trust_anchor_crls');
}
