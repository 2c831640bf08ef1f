# The on-prem engine as an image: `molar-clones serve` with state under /data. Multi-arch: the
# base image is, and `npm install` fetches workerd's binary for the platform it builds on, e.g.
#   docker buildx build --platform linux/amd64,linux/arm64 -t molar-clones .
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm pack --pack-destination /pkg

FROM node:24-bookworm-slim
WORKDIR /app
COPY --from=build /pkg/ /tmp/pkg/
RUN npm init -y >/dev/null \
 && npm install --omit=dev --no-audit --no-fund /tmp/pkg/molar-clones-*.tgz \
 && rm -rf /tmp/pkg /root/.npm \
 && mkdir /data && chown node:node /data
# Listen on every interface inside the container; MOLAR_CLONES_PUBLIC_URLS tells runs the names
# clients use (a port map, an ingress).
ENV NODE_ENV=production \
    MOLAR_CLONES_STATE_DIR=/data \
    MOLAR_CLONES_ADDR=0.0.0.0:8000 \
    MOLAR_CLONES_ADMIN_ADDR=0.0.0.0:9000 \
    MOLAR_CLONE_STRIPE_ADDR=0.0.0.0:8001 \
    MOLAR_CLONE_TWILIO_ADDR=0.0.0.0:8002 \
    MOLAR_CLONE_EMAIL_ADDR=0.0.0.0:8003 \
    MOLAR_CLONE_AUTH_ADDR=0.0.0.0:8004 \
    MOLAR_CLONE_S3_ADDR=0.0.0.0:8005
USER node
VOLUME /data
EXPOSE 8000 8001 8002 8003 8004 8005 9000
HEALTHCHECK --interval=10s --timeout=3s CMD ["node", "-e", "fetch('http://127.0.0.1:8000/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "node_modules/@molar/clones/dist/pkg/cli.js", "serve"]
