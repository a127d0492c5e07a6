# syntax=docker/dockerfile:1
# Vitalgraph image: a static binary (pure-Go SQLite, no cgo) on distroless,
# production mode by default. Build (docs/deploy.md):
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) -t vitalgraph .
# `--target backup` adds pg_dump/pg_restore for `vitalgraph backup`.
# Base images are pinned by tag here and kept current by Dependabot.
ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/vitalgraph . \
 && mkdir -p /out/data /out/keys /out/backup

# The scheduled backup (deploy/k8s backup CronJob) needs PostgreSQL's
# client tools next to the binary; the API image stays distroless.
FROM debian:bookworm-slim AS backup
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="vitalgraph-backup" \
      org.opencontainers.image.source="https://github.com/vitalgraph/vitalgraph" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
# Debian's security updates replace package versions in place: pinning them
# breaks rebuilds, so the base image tag (Dependabot) is the pin.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 nonroot && useradd --uid 65532 --gid 65532 --no-create-home --shell /usr/sbin/nologin nonroot
COPY --from=build /out/vitalgraph /vitalgraph
COPY --from=build --chown=65532:65532 /out/backup /backup
ENV ENV_MODE=production
USER 65532:65532
ENTRYPOINT ["/vitalgraph"]
CMD ["backup"]

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
LABEL org.opencontainers.image.title="vitalgraph" \
      org.opencontainers.image.description="Vitalgraph GraphQL health-insights API and worker" \
      org.opencontainers.image.source="https://github.com/vitalgraph/vitalgraph" \
      org.opencontainers.image.documentation="https://github.com/vitalgraph/vitalgraph/blob/main/docs/deploy.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /out/vitalgraph /vitalgraph
# Writable by the nonroot user (uid 65532); a named volume mounted here
# starts with this ownership.
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/keys /keys
# Production unless told otherwise: dev conveniences (demo user,
# X-Debug-User, playground) are never the default of a shipped image.
ENV ENV_MODE=production ADDR=:8080 DATA_DIR=/data
EXPOSE 8080
USER 65532:65532
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/vitalgraph", "healthcheck"]
ENTRYPOINT ["/vitalgraph"]
CMD ["serve"]
