# bascule's own image, for running it on Kubernetes (deploy/kubernetes/): the
# control plane (bascule serve) and the routers (bascule router) are this one
# binary. Build it once, push it, and name it by digest in the manifests:
#
#   docker build -t registry.example.com/bascule:v1 .
#   docker push registry.example.com/bascule:v1   # prints the digest
#
# The migration linter compiles PostgreSQL's parser through cgo, hence a
# builder with a C compiler and a glibc runtime image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -o /out/bascule ./cmd/bascule

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/bascule /usr/local/bin/bascule
# The manifests run it as this user, with their data directories writable by it.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/bascule"]
