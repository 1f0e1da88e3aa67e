/**
 * Keeps a test process's connections on loopback: a connect to any other address (or to a name other than
 * localhost, whose lookup could leave the machine) fails at once with ECONNREFUSED and is recorded, so a
 * case about a private or metadata address can never send a packet there, even on code that would try.
 */
import net from 'node:net';

const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/i;

export interface NetworkGuard {
  /** Destinations refused so far (host:port). */
  readonly refused: string[];
  /** Every connection attempt so far, loopback included (host:port). */
  readonly attempts: string[];
  uninstall(): void;
}

export function installNetworkGuard(): NetworkGuard {
  const original = net.Socket.prototype.connect;
  const refused: string[] = [];
  const attempts: string[] = [];
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const first = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; port?: number; path?: string } | number | string;
    const options = typeof first === 'object' && first !== null ? first : { port: Number(first), host: typeof args[1] === 'string' ? args[1] : 'localhost' };
    const host = (options.host ?? 'localhost').replace(/^\[|\]$/g, '');
    if (options.path === undefined) attempts.push(`${host}:${options.port}`);
    if (options.path === undefined && !LOOPBACK.test(host)) {
      refused.push(`${host}:${options.port}`);
      process.nextTick(() => this.destroy(Object.assign(new Error(`connect ECONNREFUSED ${host} (the hostile corpus allows loopback only)`), { code: 'ECONNREFUSED' })));
      return this;
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  return {
    refused,
    attempts,
    uninstall() {
      net.Socket.prototype.connect = original;
    },
  };
}
