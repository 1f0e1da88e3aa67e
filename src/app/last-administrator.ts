/**
 * The guard that keeps the admin API usable: the last client that can sign in to it with the admin
 * scope is neither removed nor changed so that it no longer can. Without it the admin API would lock
 * everybody out, and only the CLI on the database could let anyone back in.
 */
import { ConflictError } from '../errors/index.js';
import { type ClientRecord, clients, type Db } from '../store/index.js';
import { ADMIN_SCOPE } from './admin-scopes.js';
import { adminSignInRefusal } from './administrators.js';

/**
 * Refuses (ERR_ADMIN_LAST, 409) to remove (`after` undefined) or change `before` when it is the only
 * client that can sign in with the admin scope and would no longer be able to. Only clients that can
 * sign in count (adminSignInRefusal, the admin API's own rules): one with the scope but without bound
 * tokens or a valid mapping does not. `change` says what the refused change is, `member` the input it
 * came in. Call it inside the change's transaction.
 *
 * @example
 * await assertAnotherAdministrator(trx, before, undefined, { change: 'removing it' });
 */
export async function assertAnotherAdministrator(trx: Db, before: ClientRecord, after: ClientRecord | undefined, refused: { change: string; member?: string }): Promise<void> {
  const now = Date.now();
  if (adminSignInRefusal(before, [ADMIN_SCOPE], now) !== undefined || (after && adminSignInRefusal(after, [ADMIN_SCOPE], now) === undefined)) return;
  const unable: string[] = [];
  for (const id of await clients.idsWithScopeText(trx, ADMIN_SCOPE, before.clientId)) {
    const other = await clients.find(trx, id);
    if (!other?.scopes.includes(ADMIN_SCOPE)) continue;
    const refusal = adminSignInRefusal(other, [ADMIN_SCOPE], now);
    if (refusal === undefined) return;
    unable.push(refusal);
  }
  throw new ConflictError(
    'ERR_ADMIN_LAST',
    `"${before.clientId}" is the only client that can sign in to the admin API with ${ADMIN_SCOPE}${unable.length ? ` (the others with the scope cannot: ${unable.join('; ')})` : ''}; ${refused.change} would leave nobody able to change anything through the admin API.`,
    { details: { ...(refused.member ? { member: refused.member } : {}), scope: ADMIN_SCOPE } },
  );
}
