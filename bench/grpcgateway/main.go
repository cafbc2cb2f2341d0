// Command grpc-gateway-bench serves grpc-gateway's generated REST handlers of the
// platform's contracts in front of one plaintext gRPC backend: the anchor contender of
// bench/rest.py (bench/README.md, "REST face").
//
//	grpc-gateway-bench --listen 127.0.0.1:8090 --backend 127.0.0.1:50051
//
// The handlers (package gw/acme/<name>/v1, files *.pb.gw.go) are generated from the
// contracts' google.api.http annotations at bench time, by bench/grpcgatewaystack.py
// with the protoc-gen-grpc-gateway of this module's `tool` line, into the git-ignored
// .tools/grpcgateway/, and compiled in with `go build -overlay`: they are never in the
// repository, so this package builds only through that script.
//
// Every service with HTTP bindings is registered against the one backend: the bench
// calls GET /v1/users/{id} of acme.user.v1.UserService; a route of a service the backend
// does not serve answers 501 (UNIMPLEMENTED). The Authorization header reaches the
// backend as `authorization` metadata (grpc-gateway passes it on by default).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	authv1gw "github.com/acme/platform/bench/grpcgateway/gw/acme/auth/v1"
	userv1gw "github.com/acme/platform/bench/grpcgateway/gw/acme/user/v1"
)

type register func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error

// The generated Register*Handler of every service with HTTP bindings.
var services = []register{
	userv1gw.RegisterUserServiceHandler,
	authv1gw.RegisterAuthServiceHandler,
}

func main() {
	listen := flag.String("listen", "127.0.0.1:8090", "host:port to serve HTTP on")
	backend := flag.String("backend", "127.0.0.1:50051", "host:port of the plaintext gRPC backend")
	flag.Parse()
	if err := run(*listen, *backend); err != nil {
		log.Fatal(err)
	}
}

// newMux is grpc-gateway's ServeMux with the JSON of the platform's REST face: field names
// in lowerCamelCase and unpopulated fields left out, as the gateway's
// json_format.MessageToDict writes them (grpc-gateway's default also writes the
// unpopulated ones).
func newMux() *runtime.ServeMux {
	json := &runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{},
		UnmarshalOptions: protojson.UnmarshalOptions{},
	}
	return runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard, json))
}

func run(listen, backend string) error {
	conn, err := grpc.NewClient(backend, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("backend %s: %w", backend, err)
	}
	defer conn.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	mux := newMux()
	for _, add := range services {
		if err := add(ctx, mux, conn); err != nil {
			return err
		}
	}
	listener, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		done, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(done)
	}()
	fmt.Fprintf(os.Stderr, "grpc-gateway serving on %s, backend %s\n", listener.Addr(), backend)
	if err := server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
