# sekisho: static, pure-Go build; runs as a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces go-smtp with the patched copy in the tree (see its PATCHES.md)
COPY gateway/third_party/go-smtp ./gateway/third_party/go-smtp
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/sekisho ./cmd/sekisho \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/sekisho /sekisho
COPY --from=build --chown=nonroot:nonroot /out/data /data
USER nonroot:nonroot
# SMTP relay (Postfix relayhost / content_filter points here)
EXPOSE 2525
# HTTP(S) forward proxy for browsers and tools
EXPOSE 3128
# admin: health, metrics, reload, PAC file, console
EXPOSE 8025
VOLUME ["/data"]
ENTRYPOINT ["/sekisho"]
CMD ["serve", "--data-dir", "/data", "--smtp-listen", ":2525", "--proxy-listen", ":3128", "--admin-listen", ":8025"]
