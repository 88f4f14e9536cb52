# Build on the Rust image, run on a slim Debian as a non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migration ./migration
COPY src ./src
COPY config ./config
COPY benches ./benches
RUN cargo build --release --locked --bin employee-avatars

FROM debian:bookworm-slim
# Debian's security updates replace pinned versions; the image takes the current ones.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/employee-avatars --create-home app
COPY --from=build /src/target/release/employee-avatars /usr/local/bin/employee-avatars
COPY config/production.toml /etc/employee-avatars/production.toml
ENV APP_CONFIG=/etc/employee-avatars/production.toml
VOLUME ["/var/lib/employee-avatars"]
USER 10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1:8080/health"]
ENTRYPOINT ["employee-avatars"]
CMD ["serve"]
