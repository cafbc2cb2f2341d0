package com.acme.conformance;

import com.acme.auth.v1.AuthServiceProto;
import com.acme.options.v1.AccessProto;
import com.acme.user.v1.UserProto;
import com.acme.user.v1.UserServiceProto;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import com.google.rpc.ErrorDetailsProto;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The wire vectors: each decoded from binary and from JSON into its generated class, then
 * re-encoded both ways: the bytes must come back identical, the JSON equal as JSON.
 */
final class Vectors {
  private static final List<FileDescriptor> FILES = List.of(
      UserProto.getDescriptor(), UserServiceProto.getDescriptor(), AuthServiceProto.getDescriptor(),
      AccessProto.getDescriptor(), ErrorDetailsProto.getDescriptor());

  private final Map<String, Descriptor> types = new HashMap<>();

  Vectors() {
    for (FileDescriptor file : FILES) {
      file.getMessageTypes().forEach(type -> types.put(type.getFullName(), type));
    }
  }

  Map<String, String> run(JsonArray vectors) {
    Map<String, String> outcomes = new LinkedHashMap<>();
    for (JsonElement item : vectors) {
      JsonObject vector = item.getAsJsonObject();
      try {
        roundTrip(vector);
        outcomes.put(vector.get("name").getAsString(), null);
      } catch (StepFailed e) {
        outcomes.put(vector.get("name").getAsString(), e.getMessage());
      } catch (InvalidProtocolBufferException | ReflectiveOperationException | RuntimeException e) {
        outcomes.put(vector.get("name").getAsString(), e.toString());
      }
    }
    return outcomes;
  }

  private void roundTrip(JsonObject vector) throws InvalidProtocolBufferException, ReflectiveOperationException {
    Message prototype = prototype(vector.get("type").getAsString());
    String hex = vector.get("binary").getAsString();
    byte[] binary = HexFormat.of().parseHex(hex);
    JsonElement json = vector.get("json");
    Message.Builder fromJson = prototype.newBuilderForType();
    JsonFormat.parser().merge(json.toString(), fromJson);
    Map<String, Message> decoded = new LinkedHashMap<>();
    decoded.put("binary", prototype.getParserForType().parseFrom(binary));
    decoded.put("json", fromJson.build());
    for (var source : decoded.entrySet()) {
      byte[] encoded = source.getValue().toByteArray();
      if (!Arrays.equals(encoded, binary)) {
        throw new StepFailed(source.getKey() + " -> binary gave " + HexFormat.of().formatHex(encoded) + ", expected " + hex);
      }
      JsonElement printed = Session.toJson(source.getValue());
      if (!printed.equals(json)) {
        throw new StepFailed(source.getKey() + " -> json gave " + printed);
      }
    }
  }

  /** The default instance of the generated class of a message type (java_multiple_files). */
  private Message prototype(String typeName) throws ReflectiveOperationException {
    Descriptor type = types.get(typeName);
    if (type == null) {
      throw new StepFailed("unknown message type " + typeName);
    }
    Deque<String> names = new ArrayDeque<>();
    for (Descriptor t = type; t != null; t = t.getContainingType()) {
      names.addFirst(t.getName());
    }
    String className = type.getFile().getOptions().getJavaPackage() + "." + String.join("$", names);
    return (Message) Class.forName(className).getMethod("getDefaultInstance").invoke(null);
  }
}
