/**
 * Why a certificate did not match a client mapping: stable codes with a default hint each, so the server,
 * the audit log and the diagnosis speak the same language (STYLE habit 2). The codes and their hints are
 * defined in the error catalog (src/errors/catalog/mapping.ts).
 */
import { hintsOf } from '../errors/catalog/entry.js';
import { MAPPING_REASON_CODES, type MappingReasonCode } from '../errors/catalog/mapping.js';

export type { MappingReasonCode };

/** Code → default hint (what a person should do next). */
export const MAPPING_REASONS: Readonly<Record<MappingReasonCode, string>> = hintsOf(MAPPING_REASON_CODES);
