# syntax=docker/dockerfile:1
#
# dicoso in a container: one static binary (migrations, seeds and the PWA
# are embedded) on a distroless base, running as a non-root user, with its
# store on the /data volume.
#
#   docker build -t dicoso .
#   docker run -d -p 8080:8080 -v dicoso-data:/data \
#     -e DICOSO_ADMIN_PASSWORD=... -e DICOSO_JWT_SECRET=... dicoso

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: the SQLite driver is pure Go (modernc.org/sqlite), so the binary
# is static and needs no libc in the runtime image.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/dicoso . \
 && /out/dicoso help >/dev/null \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dicoso /usr/local/bin/dicoso
# /data belongs to the image's non-root user (65532, "nonroot"), so a fresh
# named volume mounted on it starts with that owner and is writable.
COPY --from=build --chown=65532:65532 /out/data /data
ENV DICOSO_DATA=/data \
    DICOSO_ADDR=:8080
VOLUME /data
EXPOSE 8080
USER 65532:65532
# No curl in distroless: the binary checks its own /healthz (port from
# DICOSO_ADDR).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/dicoso", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/dicoso"]
CMD ["serve"]
