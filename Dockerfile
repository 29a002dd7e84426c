# ParkOps: ingest, API, dashboard and embedded Node-RED in one Node 22 image (docs/deploy.md).
# The same image runs the device simulators (compose profile `sim`).
#
# Build stage: better-sqlite3 12 compiles from source when no prebuilt binary fits, which needs
# python3, make and g++; the runtime stage does not carry them.
FROM node:22-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Manifests first, so the dependency layer is cached until they change.
COPY package.json package-lock.json ./
COPY contract/package.json contract/package.json
COPY ingest/package.json ingest/package.json
COPY dashboard/package.json dashboard/package.json
COPY simulators/package.json simulators/package.json
RUN npm ci --no-audit --no-fund
COPY . .
# The SvelteKit dashboard, built with adapter-node into dashboard/build (served by the ingest's HTTP server).
RUN npm run build
# Runtime tree: production dependencies only. tsx, which runs the TypeScript sources, is a root
# devDependency, so it goes into its own prefix at the lockfile's version (`npm install --no-save
# --omit=dev tsx` after the prune installs nothing: the lockfile marks it dev).
RUN TSX_VERSION="$(node -p "require('./node_modules/tsx/package.json').version")" \
 && npm prune --omit=dev --no-audit --no-fund \
 && npm install --prefix /opt/tsx --no-audit --no-fund "tsx@${TSX_VERSION}" \
 && rm -rf dashboard/.svelte-kit dashboard/src test bench docs

FROM node:22-bookworm-slim
# The monthly PDF embeds a Chinese font (ingest/src/reports/monthly-pdf.ts looks for Noto Sans CJK
# here, and refuses with a clear message when there is none): only the runtime needs it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PORT=3000 \
    PARKOPS_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app /app
COPY --from=build /opt/tsx /opt/tsx
ENV PATH=/opt/tsx/node_modules/.bin:$PATH
# The data folder holds the SQLite database (accounts, alerts, live state, the InfluxDB outbox) and
# the Node-RED user directory: a volume, owned by the unprivileged `node` user of the base image.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 3000
# Liveness: the HTTP server answers. /api/health says 503 while degraded (MQTT down, InfluxDB
# outbox behind): that is for monitoring, not a reason to restart the container.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/health').then(r=>process.exit(r.status===200||r.status===503?0:1),()=>process.exit(1))"]
# tsx directly (not `npm start`): signals reach the process, so SIGTERM stops it cleanly.
CMD ["tsx", "ingest/src/main.ts"]
