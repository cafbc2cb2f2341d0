// The Go conformance runner: gen/go's clients over grpc-go (tests/conformance/README.md).
// gen/go comes from this checkout, as a consumer's replace (or go.work) would take it.
module github.com/acme/platform/tests/conformance/go

go 1.26.0

require (
	github.com/acme/platform/gen/go v0.0.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.12-20260825204119-511051f7f437.1 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect
)

replace github.com/acme/platform/gen/go => ../../../gen/go
