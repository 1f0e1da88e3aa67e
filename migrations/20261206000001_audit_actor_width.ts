import type { Knex } from 'knex';

/**
 * An administrator's audit actor is `admin:<client_id>:<x5t#S256>`: a client id of up to 255 characters
 * plus 50 make 305, more than the 300 the column held. PostgreSQL enforces a varchar's width (the write
 * failed); SQLite does not, so only PostgreSQL's column changes.
 */
export async function up(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.raw('alter table audit_log alter column actor type varchar(400)');
}

export async function down(knex: Knex): Promise<void> {
  if (knex.client.config.client !== 'pg') return;
  await knex.raw('alter table audit_log alter column actor type varchar(300) using left(actor, 300)');
}
