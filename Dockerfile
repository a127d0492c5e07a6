# Build a static binary (pure-Go SQLite, no cgo) and ship it on distroless.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/vitalgraph .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vitalgraph /vitalgraph
ENV ADDR=:8080 DATA_DIR=/data
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/vitalgraph"]
CMD ["serve"]
