package main

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	authv1 "github.com/acme/platform/gen/go/acme/auth/v1"
	userv1 "github.com/acme/platform/gen/go/acme/user/v1"
)

// call sends one request, given as proto3 JSON, through a generated client.
type call func(ctx context.Context, conn grpc.ClientConnInterface, request []byte) (proto.Message, error)

// calls holds every method a scenario may name, each through its generated client.
var calls = map[string]call{
	"acme.user.v1.UserService/CreateUser":   unary(userv1.NewUserServiceClient, userv1.UserServiceClient.CreateUser),
	"acme.user.v1.UserService/GetUser":      unary(userv1.NewUserServiceClient, userv1.UserServiceClient.GetUser),
	"acme.user.v1.UserService/ListUsers":    unary(userv1.NewUserServiceClient, userv1.UserServiceClient.ListUsers),
	"acme.user.v1.UserService/UpdateUser":   unary(userv1.NewUserServiceClient, userv1.UserServiceClient.UpdateUser),
	"acme.user.v1.UserService/DeleteUser":   unary(userv1.NewUserServiceClient, userv1.UserServiceClient.DeleteUser),
	"acme.auth.v1.AuthService/Login":        unary(authv1.NewAuthServiceClient, authv1.AuthServiceClient.Login),
	"acme.auth.v1.AuthService/RefreshToken": unary(authv1.NewAuthServiceClient, authv1.AuthServiceClient.RefreshToken),
	"acme.auth.v1.AuthService/Logout":       unary(authv1.NewAuthServiceClient, authv1.AuthServiceClient.Logout),
	"acme.auth.v1.AuthService/GetJwks":      unary(authv1.NewAuthServiceClient, authv1.AuthServiceClient.GetJwks),
}

// unary adapts a generated client's method (a method expression such as
// userv1.UserServiceClient.GetUser) to a call.
func unary[C any, Req, Resp proto.Message](
	newClient func(grpc.ClientConnInterface) C,
	method func(C, context.Context, Req, ...grpc.CallOption) (Resp, error),
) call {
	return func(ctx context.Context, conn grpc.ClientConnInterface, request []byte) (proto.Message, error) {
		var zero Req
		in := zero.ProtoReflect().New().Interface().(Req)
		if err := protojson.Unmarshal(request, in); err != nil {
			return nil, err
		}
		out, err := method(newClient(conn), ctx, in)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}
