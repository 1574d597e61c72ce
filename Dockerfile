# FIX venue gateway.
#   Build: docker build -t fix-gateway .
#   Run (shipped config: venue simulators, no credentials):
#     docker run -d --name fix-gateway --restart unless-stopped -p 9878:9878 -p 127.0.0.1:9879:9879 -v fix-gateway-var:/app/var fix-gateway
#   (--restart: after a crash the same container restarts and takes its stale store lock over; a
#   replacement container takes it over once the lock's heartbeat is 30 s old, retrying until then.)
#   Run your own config (mounted read-only; it must use absolute FileStorePath/FileLogPath under /app/var):
#     docker run -d --name fix-gateway --restart unless-stopped -p 9878:9878 -p 127.0.0.1:9879:9879 -v fix-gateway-var:/app/var \
#       -v /etc/gateway:/config:ro -e HASHKEY_API_KEY=... fix-gateway --config /config/sessions.cfg
# The HEALTHCHECK asks /ready on the admin endpoint (HttpAcceptPort 9879 in the shipped config; set
# HEALTHCHECK_URL when a mounted config uses another port).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json sessions.cfg ./
COPY dictionaries ./dictionaries
# The shipped config listens on 127.0.0.1; inside a container listen on all interfaces (publish
# the admin port on the host's loopback only, as in the run line above).
RUN sed -i -e 's/^SocketAcceptHost=127.0.0.1/SocketAcceptHost=0.0.0.0/' -e 's/^HttpAcceptPort=9879$/HttpAcceptPort=9879\nHttpAcceptHost=0.0.0.0/' sessions.cfg \
    && grep -q '^HttpAcceptHost=0.0.0.0$' sessions.cfg \
    && mkdir -p var && chown -R node:node var
USER node
EXPOSE 9878 9879
# Message store, order books and FIX/event logs: keep them across container replacements.
VOLUME ["/app/var"]
# The slim image has neither curl nor wget: Node 20's own fetch asks /ready (200 = ready; 503 while
# the acceptor is not listening or a venue is down).
ENV HEALTHCHECK_URL=http://127.0.0.1:9879/ready
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL,{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# A larger young generation (32 MB semi-spaces, 16 by default): every order allocates tens of KB
# that die young; with the default, a burst of 10,000 orders took 52 scavenges, each copying the
# orders in flight again (issue 9: ~15-30 µs of CPU per order, multi-ms pauses at 1,000/s).
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/main.js"]
CMD ["--config", "sessions.cfg"]
