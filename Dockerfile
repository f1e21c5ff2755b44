# syntax=docker/dockerfile:1
# session-keeper container image: a Rust build stage and a slim Debian runtime.
#
#     docker build -t session-keeper .
#     docker run -d --name session-keeper --read-only \
#         -v "$PWD/session-keeper.toml:/etc/session-keeper/session-keeper.toml:ro" \
#         -v session-keeper-state:/var/lib/session-keeper \
#         session-keeper
#
# The daemon runs as PID 1: it handles SIGTERM/SIGINT itself (persists state, exits 0 within
# daemon.shutdown_grace), so no init shim is needed. A configuration error exits 78.
# The HEALTHCHECK runs `session-keeper health`, which asks /healthz on daemon.admin_listen:
# set admin_listen (e.g. "0.0.0.0:9464") in the mounted config, or the check reports unhealthy.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY examples ./examples
# --locked: exactly the dependency versions of Cargo.lock. The cache mounts keep the registry
# and build output between builds; the binary is copied out because a cache mount is not part
# of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin session-keeper \
    && install -m 0755 target/release/session-keeper /usr/local/bin/session-keeper

FROM debian:bookworm-slim
# ca-certificates: the HTTPS gateways and chat bots; tzdata: the system zone when
# daemon.timezone is left out (TZ=Asia/Shanghai works either way).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
# A dedicated unprivileged identity; the state directory is its only writable place. A new
# named volume mounted there inherits this ownership.
RUN groupadd --system --gid 10001 session-keeper \
    && useradd --system --uid 10001 --gid session-keeper --no-create-home \
        --home-dir /var/lib/session-keeper --shell /usr/sbin/nologin session-keeper \
    && install -d -o session-keeper -g session-keeper -m 0750 /var/lib/session-keeper \
    && install -d -m 0755 /etc/session-keeper
COPY --from=builder /usr/local/bin/session-keeper /usr/local/bin/session-keeper
# The annotated example, for reference; the real config is mounted at SESSION_KEEPER_CONFIG.
COPY etc/session-keeper.toml /usr/share/doc/session-keeper/session-keeper.toml.example

ENV SESSION_KEEPER_CONFIG=/etc/session-keeper/session-keeper.toml
VOLUME ["/var/lib/session-keeper"]
WORKDIR /var/lib/session-keeper
USER session-keeper:session-keeper
# The admin HTTP server (/healthz, /readyz, /metrics, /v1/devices) when admin_listen is set.
EXPOSE 9464
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["session-keeper", "health"]
ENTRYPOINT ["session-keeper"]
CMD ["run"]
