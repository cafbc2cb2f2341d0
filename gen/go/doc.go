// Package acmeapi is the Go face of the Acme contracts; it holds no code of its own.
//
// `make generate` writes the generated packages below it, one per proto package, named by
// buf's managed mode: acme/user/v1/user.proto becomes
// github.com/acme/platform/gen/go/acme/user/v1 (package userv1), with its messages
// (protoc-gen-go) and gRPC client and server (protoc-gen-go-grpc). Only this file, go.mod and
// go.sum are written by hand.
//
// The contracts' imports come from published modules, never generated here: google.api
// from google.golang.org/genproto/googleapis/api, buf.validate from
// buf.build/gen/go/bufbuild/protovalidate. Importing this package also registers what a
// client needs to read the services' errors: google.rpc.Status and its details
// (errdetails.ErrorInfo, BadRequest, ...), so that status.FromError(err).Details() decodes
// them.
package acmeapi

import (
	_ "google.golang.org/genproto/googleapis/rpc/errdetails" // error details in a Status
	_ "google.golang.org/genproto/googleapis/rpc/status"     // google.rpc.Status
)
