package com.acme.user.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Manages users and their credentials.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class UserServiceGrpc {

  private UserServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "acme.user.v1.UserService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<com.acme.user.v1.CreateUserRequest,
      com.acme.user.v1.CreateUserResponse> getCreateUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateUser",
      requestType = com.acme.user.v1.CreateUserRequest.class,
      responseType = com.acme.user.v1.CreateUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<com.acme.user.v1.CreateUserRequest,
      com.acme.user.v1.CreateUserResponse> getCreateUserMethod() {
    io.grpc.MethodDescriptor<com.acme.user.v1.CreateUserRequest, com.acme.user.v1.CreateUserResponse> getCreateUserMethod;
    if ((getCreateUserMethod = UserServiceGrpc.getCreateUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getCreateUserMethod = UserServiceGrpc.getCreateUserMethod) == null) {
          UserServiceGrpc.getCreateUserMethod = getCreateUserMethod =
              io.grpc.MethodDescriptor.<com.acme.user.v1.CreateUserRequest, com.acme.user.v1.CreateUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.CreateUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.CreateUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("CreateUser"))
              .build();
        }
      }
    }
    return getCreateUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<com.acme.user.v1.GetUserRequest,
      com.acme.user.v1.GetUserResponse> getGetUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetUser",
      requestType = com.acme.user.v1.GetUserRequest.class,
      responseType = com.acme.user.v1.GetUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<com.acme.user.v1.GetUserRequest,
      com.acme.user.v1.GetUserResponse> getGetUserMethod() {
    io.grpc.MethodDescriptor<com.acme.user.v1.GetUserRequest, com.acme.user.v1.GetUserResponse> getGetUserMethod;
    if ((getGetUserMethod = UserServiceGrpc.getGetUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getGetUserMethod = UserServiceGrpc.getGetUserMethod) == null) {
          UserServiceGrpc.getGetUserMethod = getGetUserMethod =
              io.grpc.MethodDescriptor.<com.acme.user.v1.GetUserRequest, com.acme.user.v1.GetUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.GetUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.GetUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("GetUser"))
              .build();
        }
      }
    }
    return getGetUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<com.acme.user.v1.ListUsersRequest,
      com.acme.user.v1.ListUsersResponse> getListUsersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListUsers",
      requestType = com.acme.user.v1.ListUsersRequest.class,
      responseType = com.acme.user.v1.ListUsersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<com.acme.user.v1.ListUsersRequest,
      com.acme.user.v1.ListUsersResponse> getListUsersMethod() {
    io.grpc.MethodDescriptor<com.acme.user.v1.ListUsersRequest, com.acme.user.v1.ListUsersResponse> getListUsersMethod;
    if ((getListUsersMethod = UserServiceGrpc.getListUsersMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getListUsersMethod = UserServiceGrpc.getListUsersMethod) == null) {
          UserServiceGrpc.getListUsersMethod = getListUsersMethod =
              io.grpc.MethodDescriptor.<com.acme.user.v1.ListUsersRequest, com.acme.user.v1.ListUsersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListUsers"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.ListUsersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.ListUsersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("ListUsers"))
              .build();
        }
      }
    }
    return getListUsersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<com.acme.user.v1.UpdateUserRequest,
      com.acme.user.v1.UpdateUserResponse> getUpdateUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateUser",
      requestType = com.acme.user.v1.UpdateUserRequest.class,
      responseType = com.acme.user.v1.UpdateUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<com.acme.user.v1.UpdateUserRequest,
      com.acme.user.v1.UpdateUserResponse> getUpdateUserMethod() {
    io.grpc.MethodDescriptor<com.acme.user.v1.UpdateUserRequest, com.acme.user.v1.UpdateUserResponse> getUpdateUserMethod;
    if ((getUpdateUserMethod = UserServiceGrpc.getUpdateUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getUpdateUserMethod = UserServiceGrpc.getUpdateUserMethod) == null) {
          UserServiceGrpc.getUpdateUserMethod = getUpdateUserMethod =
              io.grpc.MethodDescriptor.<com.acme.user.v1.UpdateUserRequest, com.acme.user.v1.UpdateUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.UpdateUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.UpdateUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("UpdateUser"))
              .build();
        }
      }
    }
    return getUpdateUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<com.acme.user.v1.DeleteUserRequest,
      com.acme.user.v1.DeleteUserResponse> getDeleteUserMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteUser",
      requestType = com.acme.user.v1.DeleteUserRequest.class,
      responseType = com.acme.user.v1.DeleteUserResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<com.acme.user.v1.DeleteUserRequest,
      com.acme.user.v1.DeleteUserResponse> getDeleteUserMethod() {
    io.grpc.MethodDescriptor<com.acme.user.v1.DeleteUserRequest, com.acme.user.v1.DeleteUserResponse> getDeleteUserMethod;
    if ((getDeleteUserMethod = UserServiceGrpc.getDeleteUserMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getDeleteUserMethod = UserServiceGrpc.getDeleteUserMethod) == null) {
          UserServiceGrpc.getDeleteUserMethod = getDeleteUserMethod =
              io.grpc.MethodDescriptor.<com.acme.user.v1.DeleteUserRequest, com.acme.user.v1.DeleteUserResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteUser"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.DeleteUserRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.DeleteUserResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("DeleteUser"))
              .build();
        }
      }
    }
    return getDeleteUserMethod;
  }

  private static volatile io.grpc.MethodDescriptor<com.acme.user.v1.VerifyCredentialsRequest,
      com.acme.user.v1.VerifyCredentialsResponse> getVerifyCredentialsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "VerifyCredentials",
      requestType = com.acme.user.v1.VerifyCredentialsRequest.class,
      responseType = com.acme.user.v1.VerifyCredentialsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<com.acme.user.v1.VerifyCredentialsRequest,
      com.acme.user.v1.VerifyCredentialsResponse> getVerifyCredentialsMethod() {
    io.grpc.MethodDescriptor<com.acme.user.v1.VerifyCredentialsRequest, com.acme.user.v1.VerifyCredentialsResponse> getVerifyCredentialsMethod;
    if ((getVerifyCredentialsMethod = UserServiceGrpc.getVerifyCredentialsMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getVerifyCredentialsMethod = UserServiceGrpc.getVerifyCredentialsMethod) == null) {
          UserServiceGrpc.getVerifyCredentialsMethod = getVerifyCredentialsMethod =
              io.grpc.MethodDescriptor.<com.acme.user.v1.VerifyCredentialsRequest, com.acme.user.v1.VerifyCredentialsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "VerifyCredentials"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.VerifyCredentialsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.VerifyCredentialsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("VerifyCredentials"))
              .build();
        }
      }
    }
    return getVerifyCredentialsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<com.acme.user.v1.GetSignInStateRequest,
      com.acme.user.v1.GetSignInStateResponse> getGetSignInStateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSignInState",
      requestType = com.acme.user.v1.GetSignInStateRequest.class,
      responseType = com.acme.user.v1.GetSignInStateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<com.acme.user.v1.GetSignInStateRequest,
      com.acme.user.v1.GetSignInStateResponse> getGetSignInStateMethod() {
    io.grpc.MethodDescriptor<com.acme.user.v1.GetSignInStateRequest, com.acme.user.v1.GetSignInStateResponse> getGetSignInStateMethod;
    if ((getGetSignInStateMethod = UserServiceGrpc.getGetSignInStateMethod) == null) {
      synchronized (UserServiceGrpc.class) {
        if ((getGetSignInStateMethod = UserServiceGrpc.getGetSignInStateMethod) == null) {
          UserServiceGrpc.getGetSignInStateMethod = getGetSignInStateMethod =
              io.grpc.MethodDescriptor.<com.acme.user.v1.GetSignInStateRequest, com.acme.user.v1.GetSignInStateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSignInState"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.GetSignInStateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  com.acme.user.v1.GetSignInStateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new UserServiceMethodDescriptorSupplier("GetSignInState"))
              .build();
        }
      }
    }
    return getGetSignInStateMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static UserServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceStub>() {
        @java.lang.Override
        public UserServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceStub(channel, callOptions);
        }
      };
    return UserServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static UserServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingV2Stub>() {
        @java.lang.Override
        public UserServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return UserServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static UserServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceBlockingStub>() {
        @java.lang.Override
        public UserServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceBlockingStub(channel, callOptions);
        }
      };
    return UserServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static UserServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<UserServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<UserServiceFutureStub>() {
        @java.lang.Override
        public UserServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new UserServiceFutureStub(channel, callOptions);
        }
      };
    return UserServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Manages users and their credentials.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Registers a new user with an initial password. Self-registration never grants a
     * role.
     * </pre>
     */
    default void createUser(com.acme.user.v1.CreateUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.CreateUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one user.
     * </pre>
     */
    default void getUser(com.acme.user.v1.GetUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.GetUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists users, oldest first, one page at a time.
     * </pre>
     */
    default void listUsers(com.acme.user.v1.ListUsersRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.ListUsersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListUsersMethod(), responseObserver);
    }

    /**
     * <pre>
     * Changes the fields of a user named in the update mask.
     * </pre>
     */
    default void updateUser(com.acme.user.v1.UpdateUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.UpdateUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a user. A deleted user can no longer sign in and is not found any more.
     * </pre>
     */
    default void deleteUser(com.acme.user.v1.DeleteUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.DeleteUserResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteUserMethod(), responseObserver);
    }

    /**
     * <pre>
     * Checks an email and password pair. Internal: called by the auth service only. An
     * unknown email and a wrong password give the same error: UNAUTHENTICATED with the
     * message "invalid credentials".
     * </pre>
     */
    default void verifyCredentials(com.acme.user.v1.VerifyCredentialsRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.VerifyCredentialsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getVerifyCredentialsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns what a user's sessions depend on, as it is now: the user (its roles) and
     * when its password was last set. Internal: called by the auth service only, on every
     * refresh of a session. A deleted user is NOT_FOUND, like one that never existed.
     * </pre>
     */
    default void getSignInState(com.acme.user.v1.GetSignInStateRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.GetSignInStateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSignInStateMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service UserService.
   * <pre>
   * Manages users and their credentials.
   * </pre>
   */
  public static abstract class UserServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return UserServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service UserService.
   * <pre>
   * Manages users and their credentials.
   * </pre>
   */
  public static final class UserServiceStub
      extends io.grpc.stub.AbstractAsyncStub<UserServiceStub> {
    private UserServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers a new user with an initial password. Self-registration never grants a
     * role.
     * </pre>
     */
    public void createUser(com.acme.user.v1.CreateUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.CreateUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one user.
     * </pre>
     */
    public void getUser(com.acme.user.v1.GetUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.GetUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists users, oldest first, one page at a time.
     * </pre>
     */
    public void listUsers(com.acme.user.v1.ListUsersRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.ListUsersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListUsersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Changes the fields of a user named in the update mask.
     * </pre>
     */
    public void updateUser(com.acme.user.v1.UpdateUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.UpdateUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a user. A deleted user can no longer sign in and is not found any more.
     * </pre>
     */
    public void deleteUser(com.acme.user.v1.DeleteUserRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.DeleteUserResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteUserMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Checks an email and password pair. Internal: called by the auth service only. An
     * unknown email and a wrong password give the same error: UNAUTHENTICATED with the
     * message "invalid credentials".
     * </pre>
     */
    public void verifyCredentials(com.acme.user.v1.VerifyCredentialsRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.VerifyCredentialsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getVerifyCredentialsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns what a user's sessions depend on, as it is now: the user (its roles) and
     * when its password was last set. Internal: called by the auth service only, on every
     * refresh of a session. A deleted user is NOT_FOUND, like one that never existed.
     * </pre>
     */
    public void getSignInState(com.acme.user.v1.GetSignInStateRequest request,
        io.grpc.stub.StreamObserver<com.acme.user.v1.GetSignInStateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSignInStateMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service UserService.
   * <pre>
   * Manages users and their credentials.
   * </pre>
   */
  public static final class UserServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<UserServiceBlockingV2Stub> {
    private UserServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers a new user with an initial password. Self-registration never grants a
     * role.
     * </pre>
     */
    public com.acme.user.v1.CreateUserResponse createUser(com.acme.user.v1.CreateUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one user.
     * </pre>
     */
    public com.acme.user.v1.GetUserResponse getUser(com.acme.user.v1.GetUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists users, oldest first, one page at a time.
     * </pre>
     */
    public com.acme.user.v1.ListUsersResponse listUsers(com.acme.user.v1.ListUsersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListUsersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes the fields of a user named in the update mask.
     * </pre>
     */
    public com.acme.user.v1.UpdateUserResponse updateUser(com.acme.user.v1.UpdateUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a user. A deleted user can no longer sign in and is not found any more.
     * </pre>
     */
    public com.acme.user.v1.DeleteUserResponse deleteUser(com.acme.user.v1.DeleteUserRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Checks an email and password pair. Internal: called by the auth service only. An
     * unknown email and a wrong password give the same error: UNAUTHENTICATED with the
     * message "invalid credentials".
     * </pre>
     */
    public com.acme.user.v1.VerifyCredentialsResponse verifyCredentials(com.acme.user.v1.VerifyCredentialsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getVerifyCredentialsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns what a user's sessions depend on, as it is now: the user (its roles) and
     * when its password was last set. Internal: called by the auth service only, on every
     * refresh of a session. A deleted user is NOT_FOUND, like one that never existed.
     * </pre>
     */
    public com.acme.user.v1.GetSignInStateResponse getSignInState(com.acme.user.v1.GetSignInStateRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetSignInStateMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service UserService.
   * <pre>
   * Manages users and their credentials.
   * </pre>
   */
  public static final class UserServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<UserServiceBlockingStub> {
    private UserServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers a new user with an initial password. Self-registration never grants a
     * role.
     * </pre>
     */
    public com.acme.user.v1.CreateUserResponse createUser(com.acme.user.v1.CreateUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one user.
     * </pre>
     */
    public com.acme.user.v1.GetUserResponse getUser(com.acme.user.v1.GetUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists users, oldest first, one page at a time.
     * </pre>
     */
    public com.acme.user.v1.ListUsersResponse listUsers(com.acme.user.v1.ListUsersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListUsersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes the fields of a user named in the update mask.
     * </pre>
     */
    public com.acme.user.v1.UpdateUserResponse updateUser(com.acme.user.v1.UpdateUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a user. A deleted user can no longer sign in and is not found any more.
     * </pre>
     */
    public com.acme.user.v1.DeleteUserResponse deleteUser(com.acme.user.v1.DeleteUserRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteUserMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Checks an email and password pair. Internal: called by the auth service only. An
     * unknown email and a wrong password give the same error: UNAUTHENTICATED with the
     * message "invalid credentials".
     * </pre>
     */
    public com.acme.user.v1.VerifyCredentialsResponse verifyCredentials(com.acme.user.v1.VerifyCredentialsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getVerifyCredentialsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns what a user's sessions depend on, as it is now: the user (its roles) and
     * when its password was last set. Internal: called by the auth service only, on every
     * refresh of a session. A deleted user is NOT_FOUND, like one that never existed.
     * </pre>
     */
    public com.acme.user.v1.GetSignInStateResponse getSignInState(com.acme.user.v1.GetSignInStateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSignInStateMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service UserService.
   * <pre>
   * Manages users and their credentials.
   * </pre>
   */
  public static final class UserServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<UserServiceFutureStub> {
    private UserServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected UserServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new UserServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Registers a new user with an initial password. Self-registration never grants a
     * role.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<com.acme.user.v1.CreateUserResponse> createUser(
        com.acme.user.v1.CreateUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one user.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<com.acme.user.v1.GetUserResponse> getUser(
        com.acme.user.v1.GetUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists users, oldest first, one page at a time.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<com.acme.user.v1.ListUsersResponse> listUsers(
        com.acme.user.v1.ListUsersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListUsersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Changes the fields of a user named in the update mask.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<com.acme.user.v1.UpdateUserResponse> updateUser(
        com.acme.user.v1.UpdateUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a user. A deleted user can no longer sign in and is not found any more.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<com.acme.user.v1.DeleteUserResponse> deleteUser(
        com.acme.user.v1.DeleteUserRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteUserMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Checks an email and password pair. Internal: called by the auth service only. An
     * unknown email and a wrong password give the same error: UNAUTHENTICATED with the
     * message "invalid credentials".
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<com.acme.user.v1.VerifyCredentialsResponse> verifyCredentials(
        com.acme.user.v1.VerifyCredentialsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getVerifyCredentialsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns what a user's sessions depend on, as it is now: the user (its roles) and
     * when its password was last set. Internal: called by the auth service only, on every
     * refresh of a session. A deleted user is NOT_FOUND, like one that never existed.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<com.acme.user.v1.GetSignInStateResponse> getSignInState(
        com.acme.user.v1.GetSignInStateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSignInStateMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_USER = 0;
  private static final int METHODID_GET_USER = 1;
  private static final int METHODID_LIST_USERS = 2;
  private static final int METHODID_UPDATE_USER = 3;
  private static final int METHODID_DELETE_USER = 4;
  private static final int METHODID_VERIFY_CREDENTIALS = 5;
  private static final int METHODID_GET_SIGN_IN_STATE = 6;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_USER:
          serviceImpl.createUser((com.acme.user.v1.CreateUserRequest) request,
              (io.grpc.stub.StreamObserver<com.acme.user.v1.CreateUserResponse>) responseObserver);
          break;
        case METHODID_GET_USER:
          serviceImpl.getUser((com.acme.user.v1.GetUserRequest) request,
              (io.grpc.stub.StreamObserver<com.acme.user.v1.GetUserResponse>) responseObserver);
          break;
        case METHODID_LIST_USERS:
          serviceImpl.listUsers((com.acme.user.v1.ListUsersRequest) request,
              (io.grpc.stub.StreamObserver<com.acme.user.v1.ListUsersResponse>) responseObserver);
          break;
        case METHODID_UPDATE_USER:
          serviceImpl.updateUser((com.acme.user.v1.UpdateUserRequest) request,
              (io.grpc.stub.StreamObserver<com.acme.user.v1.UpdateUserResponse>) responseObserver);
          break;
        case METHODID_DELETE_USER:
          serviceImpl.deleteUser((com.acme.user.v1.DeleteUserRequest) request,
              (io.grpc.stub.StreamObserver<com.acme.user.v1.DeleteUserResponse>) responseObserver);
          break;
        case METHODID_VERIFY_CREDENTIALS:
          serviceImpl.verifyCredentials((com.acme.user.v1.VerifyCredentialsRequest) request,
              (io.grpc.stub.StreamObserver<com.acme.user.v1.VerifyCredentialsResponse>) responseObserver);
          break;
        case METHODID_GET_SIGN_IN_STATE:
          serviceImpl.getSignInState((com.acme.user.v1.GetSignInStateRequest) request,
              (io.grpc.stub.StreamObserver<com.acme.user.v1.GetSignInStateResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getCreateUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              com.acme.user.v1.CreateUserRequest,
              com.acme.user.v1.CreateUserResponse>(
                service, METHODID_CREATE_USER)))
        .addMethod(
          getGetUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              com.acme.user.v1.GetUserRequest,
              com.acme.user.v1.GetUserResponse>(
                service, METHODID_GET_USER)))
        .addMethod(
          getListUsersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              com.acme.user.v1.ListUsersRequest,
              com.acme.user.v1.ListUsersResponse>(
                service, METHODID_LIST_USERS)))
        .addMethod(
          getUpdateUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              com.acme.user.v1.UpdateUserRequest,
              com.acme.user.v1.UpdateUserResponse>(
                service, METHODID_UPDATE_USER)))
        .addMethod(
          getDeleteUserMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              com.acme.user.v1.DeleteUserRequest,
              com.acme.user.v1.DeleteUserResponse>(
                service, METHODID_DELETE_USER)))
        .addMethod(
          getVerifyCredentialsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              com.acme.user.v1.VerifyCredentialsRequest,
              com.acme.user.v1.VerifyCredentialsResponse>(
                service, METHODID_VERIFY_CREDENTIALS)))
        .addMethod(
          getGetSignInStateMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              com.acme.user.v1.GetSignInStateRequest,
              com.acme.user.v1.GetSignInStateResponse>(
                service, METHODID_GET_SIGN_IN_STATE)))
        .build();
  }

  private static abstract class UserServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    UserServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return com.acme.user.v1.UserServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("UserService");
    }
  }

  private static final class UserServiceFileDescriptorSupplier
      extends UserServiceBaseDescriptorSupplier {
    UserServiceFileDescriptorSupplier() {}
  }

  private static final class UserServiceMethodDescriptorSupplier
      extends UserServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    UserServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (UserServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new UserServiceFileDescriptorSupplier())
              .addMethod(getCreateUserMethod())
              .addMethod(getGetUserMethod())
              .addMethod(getListUsersMethod())
              .addMethod(getUpdateUserMethod())
              .addMethod(getDeleteUserMethod())
              .addMethod(getVerifyCredentialsMethod())
              .addMethod(getGetSignInStateMethod())
              .build();
        }
      }
    }
    return result;
  }
}
