# The corso image: the `corso` CLI as entrypoint, `corso-worker` beside it.
#   docker run --env-file $HOME/.corso/corso.env --volume $HOME/.corso:/app/corso IMAGE repo init s3 --bucket corso-test
#   docker run --env-file ... --entrypoint corso-worker IMAGE
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/corso ./starter \
 && go build -trimpath -ldflags="-s -w" -o /out/corso-worker ./worker

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --create-home --home-dir /app corso \
 && mkdir -p /app/corso && chown corso:corso /app/corso
COPY --from=build /out/corso /out/corso-worker /usr/local/bin/
# Config (.corso.toml) lives in the mounted volume; workers keep their
# per-process repository state in their own folder.
ENV CORSO_CONFIG_DIR=/app/corso \
    CORSO_WORKER_DIR=/app/worker
USER corso
WORKDIR /app
ENTRYPOINT ["corso"]
