# mcp-router daemon image. Build: docker build -t mcp-router .
# Run: see docker-compose.yml (the daemon needs the Docker socket to start server containers).
ARG NODE_VERSION=24
# Where no registry is reachable, pass a locally built equivalent (see .ci/daemon-image.sh).
ARG NODE_IMAGE=node:${NODE_VERSION}-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY schemas ./schemas
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    MCP_ROUTER_DATA=/data
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown node:node /data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY registry ./registry
COPY web ./web
USER node
VOLUME ["/data"]
EXPOSE 8808
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8808/readyz || exit 1
ENTRYPOINT ["node", "dist/src/bin.js"]
CMD ["serve", "--host", "0.0.0.0", "--registry", "/app/registry"]
