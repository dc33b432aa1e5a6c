# Mortar's container image: the `mortar` binary, the shared libraries it
# links (glibc, OpenSSL for libgit2, zlib, libgcc) and CA certificates, on
# an empty base, run as a non-root user.
#
# Base images are build arguments, so a build without a registry can use
# local ones. BINARY_STAGE picks the image whose /out/ is copied in: by
# default the `build` stage below compiles the release binary; the test
# suite instead passes an image assembled from its own build with exactly
# this /out/ layout (see tests/it/image.rs), so the runtime stage is what
# it exercises, not the compile.
ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=scratch
ARG BINARY_STAGE=build

FROM ${RUST_IMAGE} AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin mortar \
 && mkdir -p /out/usr/local/bin /out/etc/ssl/certs \
 && cp target/release/mortar /out/usr/local/bin/mortar \
 && ldd target/release/mortar | grep -o '/[^ ]*' | xargs -I{} cp --parents -L {} /out/ \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt

# hadolint ignore=DL3006
FROM ${BINARY_STAGE} AS binary

# hadolint ignore=DL3006
FROM ${RUNTIME_IMAGE}
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="mortar" \
      org.opencontainers.image.description="A GitOps controller for Databricks: manifests in Git, reconciled into workspaces through the REST API." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/mortar-dev/mortar"
COPY --from=binary /out/ /
ENV PATH=/usr/local/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["mortar"]
CMD ["run", "--config", "/etc/mortar/mortar.yaml"]
