// Hand-written, type-checked by `tsc --noEmit -p gen/ts` in `make test` and never run: what a
// client of @acme/api writes compiles against the generated code. Imports go through the
// package's own name and `exports`, as a consumer's do.
import { create } from "@bufbuild/protobuf";
import { createValidator } from "@bufbuild/protovalidate";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";

import { CreateUserRequestSchema, UserService } from "@acme/api/acme/user/v1/user_service_pb.js";
import { AuthService } from "@acme/api/acme/auth/v1/auth_service_pb.js";
import { BadRequestSchema, ErrorInfoSchema } from "@acme/api/google/rpc/error_details_pb.js";

/** A Connect (or gRPC, or gRPC-web) client takes the generated service descriptor as it is. */
export async function emailOf(transport: Transport, id: string): Promise<string | undefined> {
  const users = createClient(UserService, transport);
  try {
    const { user } = await users.getUser({ id });
    return user?.email;
  } catch (err) {
    const error = ConnectError.from(err);
    if (error.code !== Code.NotFound) {
      throw error;
    }
    return undefined;
  }
}

/** The services' errors carry google.rpc details that the generated schemas decode. */
export function fieldErrors(err: unknown): Map<string, string> {
  const error = ConnectError.from(err);
  const found = new Map<string, string>();
  for (const badRequest of error.findDetails(BadRequestSchema)) {
    for (const violation of badRequest.fieldViolations) {
      found.set(violation.field, violation.description);
    }
  }
  for (const info of error.findDetails(ErrorInfoSchema)) {
    found.set(info.domain, info.reason);
  }
  return found;
}

/** The contract's buf.validate rules reach @bufbuild/protovalidate through the messages. */
export function invalidFields(email: string): string[] {
  const request = create(CreateUserRequestSchema, { email, displayName: "Ada", password: "x" });
  const result = createValidator().validate(CreateUserRequestSchema, request);
  return result.kind === "invalid" ? result.violations.map((v) => v.toString()) : [];
}

export const services = [UserService.typeName, AuthService.typeName] as const;
