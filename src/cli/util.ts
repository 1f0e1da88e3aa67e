import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { InvalidInputError } from '../errors/index.js';

/** The audit actor of a CLI change: `cli:<OS user>`. */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {}
  return `cli:${user}`;
}

/** Reads a file named by a flag; an unreadable file is bad input (exit 2) naming the flag. */
export function readFileArg(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InvalidInputError('ERR_FILE_UNREADABLE', `${flag} ${file}: cannot read the file (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, { cause });
  }
}
