# Cadence engine + API. Multi-stage: dependencies are installed in a build stage, the runtime stage runs as a
# non-root user with a health check on the API's liveness route.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    CADENCE_API_HOST=0.0.0.0 \
    CADENCE_API_PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY engine ./engine
COPY api ./api
COPY config ./config
COPY workers ./workers
COPY bin ./bin
RUN useradd --system --uid 10001 --home /app cadence && mkdir -p /app/.cadence && chown -R cadence /app/.cadence
USER cadence
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.CADENCE_API_PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "--import", "tsx", "engine/main.ts"]
