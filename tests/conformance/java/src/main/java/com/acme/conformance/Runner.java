package com.acme.conformance;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The Java conformance runner: com.acme:acme-api's classes with grpc-java.
 *
 * <pre>
 *   Runner session SCENARIO CONFIG   # data/session.json against a live stack
 *   Runner vectors VECTORS           # data/vectors.json: decode and re-encode
 * </pre>
 *
 * <p>CONFIG is JSON: {"targets": {"&lt;proto service&gt;": "host:port"}, "inputs": {...}}. Prints
 * {@code PASS name} or {@code FAIL name: why} per step (or vector), then {@code N passed, N
 * failed}; exits 1 when anything failed. The data formats are in tests/conformance/README.md.
 */
public final class Runner {
  private Runner() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Map<String, String> outcomes;
    if (args.length == 3 && args[0].equals("session")) {
      try (Session session = new Session(read(args[2]))) {
        outcomes = session.run(read(args[1]).getAsJsonArray("steps"));
      }
    } else if (args.length == 2 && args[0].equals("vectors")) {
      outcomes = new Vectors().run(read(args[1]).getAsJsonArray("vectors"));
    } else {
      System.err.println("usage: Runner session SCENARIO CONFIG | Runner vectors VECTORS");
      System.exit(2);
      return;
    }
    long failed = outcomes.values().stream().filter(failure -> failure != null).count();
    outcomes.forEach((name, failure) ->
        System.out.println(failure == null ? "PASS " + name : "FAIL " + name + ": " + failure));
    System.out.println((outcomes.size() - failed) + " passed, " + failed + " failed");
    System.exit(failed > 0 || outcomes.isEmpty() ? 1 : 0);
  }

  private static JsonObject read(String file) throws IOException {
    return JsonParser.parseString(Files.readString(Path.of(file), StandardCharsets.UTF_8)).getAsJsonObject();
  }
}
