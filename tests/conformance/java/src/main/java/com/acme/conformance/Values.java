package com.acme.conformance;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Values of the scenario: variables, dotted paths and the response checks. */
final class Values {
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([^}]+)\\}");

  private Values() {}

  /** The value at a dotted path (a number indexes a list), or null. */
  static JsonElement lookup(JsonElement value, String path) {
    for (String key : path.split("\\.")) {
      if (value instanceof JsonObject object && object.has(key)) {
        value = object.get(key);
      } else if (value instanceof JsonArray array && key.matches("\\d+")
          && Integer.parseInt(key) < array.size()) {
        value = array.get(Integer.parseInt(key));
      } else {
        return null;
      }
    }
    return value;
  }

  /** {@code value} with every ${step.path} and ${input.name} in its strings replaced. */
  static JsonElement substitute(JsonElement value, JsonElement inputs, Map<String, JsonElement> replies) {
    if (value instanceof JsonPrimitive primitive && primitive.isString()) {
      Matcher found = VARIABLE.matcher(primitive.getAsString());
      StringBuilder out = new StringBuilder();
      while (found.find()) {
        String[] parts = found.group(1).split("\\.", 2);
        JsonElement root = parts[0].equals("input") ? inputs : replies.get(parts[0]);
        JsonElement resolved = root == null || parts.length < 2 ? null : lookup(root, parts[1]);
        if (resolved == null) {
          throw new StepFailed("unresolved " + found.group());
        }
        String text = resolved.isJsonPrimitive() && resolved.getAsJsonPrimitive().isString()
            ? resolved.getAsString() : resolved.toString();
        found.appendReplacement(out, Matcher.quoteReplacement(text));
      }
      found.appendTail(out);
      return new JsonPrimitive(out.toString());
    }
    if (value instanceof JsonArray array) {
      JsonArray out = new JsonArray();
      array.forEach(item -> out.add(substitute(item, inputs, replies)));
      return out;
    }
    if (value instanceof JsonObject object) {
      JsonObject out = new JsonObject();
      object.entrySet().forEach(e -> out.add(e.getKey(), substitute(e.getValue(), inputs, replies)));
      return out;
    }
    return value;
  }

  static boolean present(JsonElement value) {
    if (value == null || value.isJsonNull()) {
      return false;
    }
    if (value.isJsonArray()) {
      return value.getAsJsonArray().size() > 0;
    }
    if (value.isJsonObject()) {
      return value.getAsJsonObject().size() > 0;
    }
    return !(value.getAsJsonPrimitive().isString() && value.getAsString().isEmpty());
  }

  /** Applies a step's response checks to the proto3 JSON of the reply. */
  static void checkResponse(JsonElement reply, JsonArray checks) {
    for (JsonElement item : checks) {
      JsonObject check = item.getAsJsonObject();
      String path = check.get("path").getAsString();
      JsonElement found = lookup(reply, path);
      if (check.has("equals") && !check.get("equals").equals(found)) {
        throw new StepFailed(path + " is " + show(found) + ", expected " + check.get("equals"));
      }
      if (check.has("notEquals") && check.get("notEquals").equals(found)) {
        throw new StepFailed(path + " is " + show(found) + ", expected anything else");
      }
      if (check.has("present") && present(found) != check.get("present").getAsBoolean()) {
        throw new StepFailed(path + " is " + show(found) + ", expected present=" + check.get("present"));
      }
      if (check.has("length") && !(found instanceof JsonArray array
          && array.size() == check.get("length").getAsInt())) {
        throw new StepFailed(path + " is " + show(found) + ", expected " + check.get("length") + " items");
      }
    }
  }

  static String show(JsonElement value) {
    return value == null ? "missing" : value.toString();
  }
}
