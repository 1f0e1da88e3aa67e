/**
 * The console's bundled files (scripts/build-console.mjs writes them to dist/console/ with content-hashed
 * names and a manifest), served from the package itself: no CDN, no external fonts or scripts. Hashed
 * names change with their content, so they are cached for a year; the HTML that names them is not cached.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ConsoleManifest {
  /** Hashed file names under assets/, e.g. `app-3FJ2K7QX.js`. */
  js: string;
  css: string;
}

export interface ConsoleAssets {
  manifest: ConsoleManifest;
  /** The bytes and content type of a hashed asset, or undefined for any other name. */
  file(name: string): { body: Buffer; contentType: string } | undefined;
}

/**
 * Strict: scripts, styles and fetches from this origin only, no inline script or style, no framing, no
 * form posts elsewhere. Images: the expiry chart is inline SVG in the DOM, which needs no source.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** Headers of every console response (pages, assets, refusals). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** The package root: the nearest folder above this module whose package.json names certbound (src/, dist/src/ or a bundle in dist/server/). */
function packageRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'certbound') return dir;
      } catch {
        // not ours; keep climbing
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The default folder of the built console: dist/console/ of the package this module belongs to. */
export function defaultAssetsDir(): string | undefined {
  const root = packageRoot();
  return root === undefined ? undefined : join(root, 'dist', 'console');
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** Reads the manifest and the files it names once; undefined when the console was not built. */
export function loadConsoleAssets(dir: string | undefined = defaultAssetsDir()): ConsoleAssets | undefined {
  if (dir === undefined) return undefined;
  const manifestPath = resolve(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ConsoleManifest;
  const files = new Map<string, { body: Buffer; contentType: string }>();
  for (const name of [manifest.js, manifest.css]) {
    files.set(name, { body: readFileSync(resolve(dir, 'assets', name)), contentType: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' });
  }
  return { manifest, file: (name) => files.get(name) };
}
