package com.acme.conformance;

import com.acme.auth.v1.AuthServiceGrpc;
import com.acme.user.v1.UserServiceGrpc;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.BadRequest;
import com.google.rpc.RetryInfo;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.AbstractBlockingStub;
import io.grpc.stub.MetadataUtils;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** The session: each step through the generated blocking stub of its service. */
final class Session implements AutoCloseable {
  private static final long DEADLINE_SECONDS = 10;
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  /** Each service's descriptor (its methods) and the factory of its generated blocking stub. */
  private record Service(ServiceDescriptor descriptor, Function<Channel, AbstractBlockingStub<?>> stub) {}

  private static final List<Service> SERVICES = List.of(
      new Service(UserServiceGrpc.getServiceDescriptor(), UserServiceGrpc::newBlockingStub),
      new Service(AuthServiceGrpc.getServiceDescriptor(), AuthServiceGrpc::newBlockingStub));

  private final Map<String, ManagedChannel> channels = new HashMap<>();
  private final JsonElement inputs;
  private final Map<String, JsonElement> replies = new HashMap<>();

  Session(JsonObject config) {
    for (var target : config.getAsJsonObject("targets").entrySet()) {
      channels.put(target.getKey(),
          ManagedChannelBuilder.forTarget(target.getValue().getAsString()).usePlaintext().build());
    }
    inputs = config.get("inputs");
  }

  /** Runs every step in order: step name to null (passed) or why it failed. */
  Map<String, String> run(JsonArray steps) {
    Map<String, String> outcomes = new LinkedHashMap<>();
    for (JsonElement step : steps) {
      String name = step.getAsJsonObject().get("name").getAsString();
      try {
        run(step.getAsJsonObject());
        outcomes.put(name, null);
      } catch (StepFailed failed) {
        outcomes.put(name, failed.getMessage());
      } catch (RuntimeException unexpected) { // a malformed step, or a bug: this step fails
        outcomes.put(name, unexpected.toString());
      }
    }
    return outcomes;
  }

  private void run(JsonObject step) {
    String call = step.get("call").getAsString();
    String serviceName = call.split("/", 2)[0];
    Service service = SERVICES.stream()
        .filter(s -> s.descriptor().getName().equals(serviceName)).findFirst().orElse(null);
    MethodDescriptor<?, ?> method = service == null ? null : service.descriptor().getMethods().stream()
        .filter(m -> m.getFullMethodName().equals(call)).findFirst().orElse(null);
    if (method == null || !channels.containsKey(serviceName)) {
      throw new StepFailed("no client or target for " + call);
    }
    Message request = parse(method, Values.substitute(step.get("request"), inputs, replies));
    JsonObject expect = Values.substitute(step.get("expect"), inputs, replies).getAsJsonObject();
    String code = expect.get("code").getAsString();
    Metadata headers = new Metadata();
    if (step.has("token")) {
      headers.put(AUTHORIZATION, "Bearer " + Values.substitute(step.get("token"), inputs, replies).getAsString());
    }
    AbstractBlockingStub<?> stub = service.stub().apply(channels.get(serviceName))
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
        .withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS);
    Message reply;
    try {
      reply = invoke(stub, method.getBareMethodName(), request);
    } catch (StatusRuntimeException error) {
      String got = error.getStatus().getCode().name();
      if (!got.equals(code)) {
        throw new StepFailed("status " + got + " (" + error.getStatus().getDescription() + "), expected " + code);
      }
      checkError(error, expect);
      return;
    }
    if (!code.equals("OK")) {
      throw new StepFailed("status OK, expected " + code);
    }
    JsonElement json = toJson(reply);
    replies.put(step.get("name").getAsString(), json);
    Values.checkResponse(json, expect.has("response") ? expect.getAsJsonArray("response") : new JsonArray());
  }

  /** The request message of {@code method}, from proto3 JSON. */
  private static Message parse(MethodDescriptor<?, ?> method, JsonElement json) {
    var marshaller = (MethodDescriptor.PrototypeMarshaller<?>) method.getRequestMarshaller();
    Message.Builder builder = ((Message) marshaller.getMessagePrototype()).newBuilderForType();
    try {
      JsonFormat.parser().merge(json.toString(), builder);
    } catch (InvalidProtocolBufferException e) {
      throw new StepFailed("request: " + e.getMessage());
    }
    return builder.build();
  }

  /** Calls the generated stub's method ({@code GetUser} is {@code getUser}). */
  private static Message invoke(AbstractBlockingStub<?> stub, String methodName, Message request) {
    String javaName = Character.toLowerCase(methodName.charAt(0)) + methodName.substring(1);
    try {
      return (Message) stub.getClass().getMethod(javaName, request.getClass()).invoke(stub, request);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof StatusRuntimeException error) {
        throw error;
      }
      throw new IllegalStateException(e.getCause());
    } catch (ReflectiveOperationException e) {
      throw new StepFailed("the stub has no method " + javaName);
    }
  }

  static JsonElement toJson(Message message) {
    try {
      return JsonParser.parseString(JsonFormat.printer().print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new StepFailed("reply: " + e.getMessage());
    }
  }

  /** Compares the google.rpc details of an error status with the expectation. */
  private static void checkError(StatusRuntimeException error, JsonObject expect) {
    com.google.rpc.Status status = StatusProto.fromThrowable(error);
    List<String> violations = new ArrayList<>();
    List<Double> delays = new ArrayList<>();
    try {
      for (Any detail : status == null ? List.<Any>of() : status.getDetailsList()) {
        if (detail.is(BadRequest.class)) {
          detail.unpack(BadRequest.class).getFieldViolationsList()
              .forEach(v -> violations.add(v.getField() + ":" + v.getReason()));
        } else if (detail.is(RetryInfo.class)) {
          delays.add(Durations.toNanos(detail.unpack(RetryInfo.class).getRetryDelay()) / 1e9);
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new StepFailed("error details: " + e.getMessage());
    }
    if (expect.has("badRequest")) {
      List<String> wanted = new ArrayList<>();
      expect.getAsJsonArray("badRequest").forEach(v -> wanted.add(
          v.getAsJsonObject().get("field").getAsString() + ":" + v.getAsJsonObject().get("reason").getAsString()));
      violations.sort(null);
      wanted.sort(null);
      if (!violations.equals(wanted)) {
        throw new StepFailed("field violations " + violations + ", expected " + wanted);
      }
    }
    if (expect.has("retryInfo")) {
      double least = expect.getAsJsonObject("retryInfo").get("minDelaySeconds").getAsDouble();
      if (delays.isEmpty() || delays.get(0) < least) {
        throw new StepFailed("retry delays " + delays + ", expected one of at least " + least + " s");
      }
    }
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagedChannel channel : channels.values()) {
      channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
