// The wire vectors: each decoded from binary and from JSON with @acme/api's schemas, then
// re-encoded both ways: the bytes must come back identical, the JSON equal as JSON.
import { isDeepStrictEqual } from "node:util";
import { createRegistry, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";

import { file_acme_auth_v1_auth_service } from "@acme/api/acme/auth/v1/auth_service_pb.js";
import { file_acme_options_v1_access } from "@acme/api/acme/options/v1/access_pb.js";
import { file_acme_user_v1_user } from "@acme/api/acme/user/v1/user_pb.js";
import { file_acme_user_v1_user_service } from "@acme/api/acme/user/v1/user_service_pb.js";
import { file_google_rpc_error_details } from "@acme/api/google/rpc/error_details_pb.js";

import { StepFailed, type Json } from "./values.js";

const registry = createRegistry(
  file_acme_user_v1_user,
  file_acme_user_v1_user_service,
  file_acme_auth_v1_auth_service,
  file_acme_options_v1_access,
  file_google_rpc_error_details,
);

export interface Vector {
  name: string;
  type: string;
  binary: string;
  json: Json;
}

export function roundTrip(vector: Vector): void {
  const schema = registry.getMessage(vector.type);
  if (schema === undefined) {
    throw new StepFailed(`unknown message type ${vector.type}`);
  }
  const binary = Buffer.from(vector.binary, "hex");
  const decoded = {
    binary: fromBinary(schema, binary),
    json: fromJson(schema, vector.json, { registry }),
  };
  for (const [source, message] of Object.entries(decoded)) {
    const encoded = Buffer.from(toBinary(schema, message));
    if (!encoded.equals(binary)) {
      throw new StepFailed(`${source} -> binary gave ${encoded.toString("hex")}, expected ${vector.binary}`);
    }
    const json = toJson(schema, message, { registry });
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(json)), vector.json)) {
      throw new StepFailed(`${source} -> json gave ${JSON.stringify(json)}`);
    }
  }
}
