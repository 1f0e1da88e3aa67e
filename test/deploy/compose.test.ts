/**
 * Docker does not run here, so the deployment files are checked statically: docker-compose.yml sets only
 * CERTBOUND_* variables that exist (and that load as a valid production configuration), mounts the nginx
 * template the nginx tests run, fills every placeholder of it, and trusts nginx's address as the proxy;
 * the Dockerfile is multi-stage on Node 22 slim, runs as a non-root user and has a HEALTHCHECK.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { ENV_VARS, loadConfig } from '../../src/config/index.js';
import { createProxyTrust } from '../../src/forwarded/index.js';
import { NGINX_TEMPLATE, NGINX_TEMPLATE_VARIABLES, type NginxVariables, renderNginxTemplate } from '../helpers/nginx.js';

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string | number | boolean | null> | string[];
  volumes?: string[];
  ports?: string[];
  command?: string[] | string;
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
}

const compose = YAML.parse(readFileSync('docker-compose.yml', 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

function envOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

const certboundServices = Object.entries(services).filter(([, s]) => Object.keys(envOf(s)).some((k) => k.startsWith('CERTBOUND_')));
const replicas = Object.entries(services).filter(([name]) => /^certbound-\d+$/.test(name));

describe('docker-compose.yml', () => {
  it('runs PostgreSQL, two certbound replicas built from the Dockerfile, nginx and the example resource server', () => {
    expect(services.postgres?.image).toMatch(/^postgres:/);
    expect(replicas.map(([n]) => n)).toEqual(['certbound-1', 'certbound-2']);
    for (const [, s] of replicas) expect(s.build).toBe('.');
    expect(services.nginx?.image).toMatch(/^nginx:/);
    const rs = services['resource-server'];
    expect(rs).toBeDefined();
    const script = (Array.isArray(rs!.command) ? rs!.command : String(rs!.command).split(' ')).find((a) => a.startsWith('examples/'));
    expect(script && existsSync(script), `resource-server runs ${script}`).toBe(true);
  });

  it('every CERTBOUND_* variable it sets exists in the config schema (ENV_VARS)', () => {
    expect(certboundServices.length).toBeGreaterThanOrEqual(3);
    for (const [name, service] of certboundServices) {
      for (const key of Object.keys(envOf(service)).filter((k) => k.startsWith('CERTBOUND_'))) {
        expect(Object.keys(ENV_VARS), `${name}: ${key}`).toContain(key);
      }
    }
  });

  it('each replica’s environment loads as a valid production configuration behind the proxy', () => {
    for (const [, service] of replicas) {
      const config = loadConfig({ env: envOf(service) });
      expect(config.env).toBe('production');
      expect(config.database.client).toBe('pg');
      expect(config.proxy).toMatchObject({ format: 'nginx', header: 'X-SSL-Client-Cert', chainValidation: 'validate' });
    }
    // Replicas behind one load balancer share one issuer.
    expect(new Set(replicas.map(([, s]) => envOf(s).CERTBOUND_ISSUER)).size).toBe(1);
  });

  it('nginx mounts exactly the template the nginx tests run, with every placeholder set', () => {
    const nginx = services.nginx!;
    const mount = (nginx.volumes ?? []).map((v) => v.split(':')).find(([, target]) => target?.startsWith('/etc/nginx/templates/'));
    expect(mount?.[0]).toBe(`./${NGINX_TEMPLATE}`);
    expect(mount?.[1]).toMatch(/\.template$/);
    const env = envOf(nginx);
    const template = readFileSync(NGINX_TEMPLATE, 'utf8');
    const placeholders = new Set([...template.matchAll(/\$\{(NGINX_[A-Z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual([...NGINX_TEMPLATE_VARIABLES].sort());
    expect(
      Object.keys(env)
        .filter((k) => k.startsWith('NGINX_'))
        .sort(),
    ).toEqual([...NGINX_TEMPLATE_VARIABLES].sort());
    const rendered = renderNginxTemplate(env as NginxVariables, template);
    expect(rendered).not.toMatch(/\$\{NGINX_/);
    expect(rendered).toContain('proxy_set_header X-SSL-Client-Cert $ssl_client_escaped_cert;');
  });

  it('SC-4: the replicas trust nginx’s fixed address as the only proxy; the public URLs are nginx’s published ports', () => {
    const networks = services.nginx!.networks as Record<string, { ipv4_address?: string }>;
    const nginxAddress = Object.values(networks)
      .map((n) => n?.ipv4_address)
      .find(Boolean);
    expect(nginxAddress).toBeDefined();
    const published = (services.nginx!.ports ?? []).map((p) => String(p).split(':')[0]);
    for (const [, service] of replicas) {
      const env = envOf(service);
      expect(createProxyTrust(env.CERTBOUND_TRUSTED_PROXIES!.split(',')).isTrusted(nginxAddress)).toBe(true);
      expect(createProxyTrust(env.CERTBOUND_TRUSTED_PROXIES!.split(',')).isTrusted('172.28.0.11')).toBe(false);
      expect(published).toContain(new URL(env.CERTBOUND_ISSUER!).port);
      expect(published).toContain(new URL(env.CERTBOUND_MTLS_URL!).port);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync('Dockerfile', 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('multi-stage on Node 22 slim', () => {
    const froms = instructions.filter((l) => /^FROM /i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM node:22-slim\b/);
    // docker-compose.yml builds the resource server from the named build stage.
    expect(froms.some((f) => / AS build$/i.test(f))).toBe(true);
  });

  it('runs as a non-root user with a HEALTHCHECK', () => {
    const users = instructions.filter((l) => /^USER /i.test(l));
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^USER (root|0)(:|$)/);
    expect(instructions.some((l) => /^HEALTHCHECK .*CMD/i.test(l))).toBe(true);
  });
});
