// grpc-gateway in front of services.user: bench/rest.py's anchor (bench/README.md). The
// handlers are generated at bench time by bench/grpcgatewaystack.py, with the plugin of the
// `tool` line, and compiled in through `go build -overlay`; gen/go comes from this checkout.
module github.com/acme/platform/bench/grpcgateway

go 1.26.0

require (
	github.com/acme/platform/gen/go v0.0.0
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.34.0
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go v1.36.12-20260825204119-511051f7f437.1 // indirect
	go.yaml.in/yaml/v4 v4.0.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.44.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261110000943-09e21b237f2c // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261110000943-09e21b237f2c // indirect
)

replace github.com/acme/platform/gen/go => ../../gen/go

tool github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway
