# syntax=docker/dockerfile:1
# deckhand: one static binary. The image adds only the docker CLI (for hosts
# with transport = "local", through a mounted socket) and CA certificates.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/deckhand ./cmd/deckhand \
 && mkdir -p /out/data

# The docker CLI only (no daemon), for transport = "local".
FROM docker:28-cli AS dockercli

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/deckhand /usr/local/bin/deckhand
COPY --from=dockercli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=build --chown=65532:65532 /out/data /data
# Without a mounted config: the local engine, /data/deckhand.db, the page on
# 0.0.0.0:8080 (the embedded default's 127.0.0.1 is unreachable through -p).
COPY config.image.toml /etc/deckhand/config.toml
COPY config.toml.example /etc/deckhand/config.toml.example
USER 65532:65532
WORKDIR /data
ENV DECKHAND_CONFIG=/etc/deckhand/config.toml
EXPOSE 8080
VOLUME ["/data"]
# No curl in the image: the binary checks its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/deckhand", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/deckhand"]
CMD ["run"]
