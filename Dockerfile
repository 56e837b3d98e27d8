# syntax=docker/dockerfile:1
#
# The image of either service, chosen by SERVICE (a directory of services/).
# Build from the repository root:
#
#   docker build --build-arg SERVICE=gateway --build-arg VERSION=1.2.3 -t streamgate-gateway:1.2.3 .
#   docker build --build-arg SERVICE=worker  --build-arg VERSION=1.2.3 -t streamgate-worker:1.2.3 .
#
# The service module builds with GOWORK=off: its go.mod `replace`s the
# modules of pkg/ with ../../pkg/..., so only pkg/ and this
# service's directory are copied in. Base images are pinned by tag and index
# digest; override GO_IMAGE / RUNTIME_IMAGE to move them.
ARG GO_IMAGE=golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab

FROM ${GO_IMAGE} AS build
ARG SERVICE
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=gateway (or another directory of services/)" >&2; exit 1; }
ENV CGO_ENABLED=0 \
    GOWORK=off \
    GOTOOLCHAIN=local \
    GOFLAGS=-mod=readonly
WORKDIR /src

# Module files first: the dependency download stays cached until they change.
COPY pkg/gatewaykit/go.mod pkg/gatewaykit/go.sum* pkg/gatewaykit/
COPY pkg/messages/go.mod pkg/messages/go.sum* pkg/messages/
COPY pkg/router/go.mod pkg/router/go.sum* pkg/router/
COPY pkg/platform/go.mod pkg/platform/go.sum* pkg/platform/
COPY services/${SERVICE}/go.mod services/${SERVICE}/go.sum* services/${SERVICE}/
WORKDIR /src/services/${SERVICE}
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY pkg/ /src/pkg/
COPY services/${SERVICE}/ /src/services/${SERVICE}/

# The version the service reports (APP_VERSION still overrides it at run time).
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath \
      -ldflags "-s -w -X github.com/streamgate/streamgate/pkg/platform/buildinfo.Version=${VERSION}" \
      -o /out/service ./cmd/${SERVICE}

FROM ${RUNTIME_IMAGE}
ARG SERVICE
ARG VERSION=dev
LABEL org.opencontainers.image.title="streamgate-${SERVICE}" \
      org.opencontainers.image.description="streamgate ${SERVICE} (gateway: HTTP to Kafka; worker: Kafka requests to replies)" \
      org.opencontainers.image.source="https://github.com/streamgate/streamgate" \
      org.opencontainers.image.version="${VERSION}"
# One fixed path: ENTRYPOINT's exec form does not expand build args. No
# EXPOSE: the ports are HTTP_ADDR and METRICS_ADDR, which the charts set.
COPY --from=build /out/service /usr/local/bin/service
# distroless "nonroot": UID/GID 65532, no shell.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/service"]
