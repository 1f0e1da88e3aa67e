/** The error `fn` throws; fails the test when it throws nothing. */
export function errorOf<E = Error>(fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    return err as E;
  }
  throw new Error('expected an error to be thrown');
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function refusal<E = import('../../src/errors/index.js').CertboundError>(p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected a refusal');
}
