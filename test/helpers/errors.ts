/** The error `fn` throws; fails the test when it throws nothing. */
export function errorOf<E = Error>(fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    return err as E;
  }
  throw new Error('expected an error to be thrown');
}
