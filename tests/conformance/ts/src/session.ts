// The session: each step through a Connect client of @acme/api's service descriptors, over gRPC.
import { fromJson, toJson, type DescService } from "@bufbuild/protobuf";
import { ConnectError, createClient, type CallOptions } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";

import { AuthService } from "@acme/api/acme/auth/v1/auth_service_pb.js";
import { UserService } from "@acme/api/acme/user/v1/user_service_pb.js";
import { BadRequestSchema, RetryInfoSchema } from "@acme/api/google/rpc/error_details_pb.js";

import { checkResponse, StepFailed, substitute, type Check, type Json, type Replies } from "./values.js";

const DEADLINE_MS = 10_000;
const SERVICES: DescService[] = [UserService, AuthService];
/** gRPC's code names, indexed by code (Connect's enum spells them in PascalCase). */
const CODES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
  "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
  "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

export interface Step {
  name: string;
  call: string;
  token?: string;
  request: Json;
  expect: Json;
}

interface Expectation {
  code: string;
  response?: Check[];
  badRequest?: { field: string; reason: string }[];
  retryInfo?: { minDelaySeconds: number };
}

interface Config {
  targets: Record<string, string>;
  inputs: Json;
}

type UnaryMethod = (request: unknown, options: CallOptions) => Promise<unknown>;

/** One Connect client per service, on a gRPC transport (HTTP/2) to its target. */
const clients = new Map<string, Record<string, UnaryMethod>>();

function clientOf(service: DescService, target: string): Record<string, UnaryMethod> {
  let client = clients.get(service.typeName);
  if (client === undefined) {
    const transport = createGrpcTransport({ baseUrl: `http://${target}` });
    // Called by method name below: the typed client, seen as a table of its methods.
    client = createClient(service, transport) as unknown as Record<string, UnaryMethod>;
    clients.set(service.typeName, client);
  }
  return client;
}

/** Runs every step in order; the outcome of each is undefined (passed) or why it failed. */
export async function session(steps: Step[], config: Config): Promise<[string, string | undefined][]> {
  const replies: Replies = new Map();
  const outcomes: [string, string | undefined][] = [];
  for (const step of steps) {
    try {
      await run(step, config, replies);
      outcomes.push([step.name, undefined]);
    } catch (error) {
      outcomes.push([step.name, error instanceof Error ? error.message : String(error)]);
    }
  }
  return outcomes;
}

async function run(step: Step, config: Config, replies: Replies): Promise<void> {
  const [serviceName, methodName] = step.call.split("/");
  const service = SERVICES.find((candidate) => candidate.typeName === serviceName);
  const method = service?.methods.find((candidate) => candidate.name === methodName);
  const target = serviceName === undefined ? undefined : config.targets[serviceName];
  if (service === undefined || method === undefined || target === undefined) {
    throw new StepFailed(`no client or target for ${step.call}`);
  }
  const request = fromJson(method.input, substitute(step.request, config.inputs, replies));
  const expect = substitute(step.expect, config.inputs, replies) as unknown as Expectation;
  const headers: Record<string, string> = {};
  if (step.token !== undefined) {
    headers["authorization"] = `Bearer ${String(substitute(step.token, config.inputs, replies))}`;
  }
  const call = clientOf(service, target)[method.localName];
  if (call === undefined) {
    throw new StepFailed(`the client has no method ${method.localName}`);
  }
  let reply: Json;
  try {
    reply = toJson(method.output, (await call(request, { headers, timeoutMs: DEADLINE_MS })) as never);
  } catch (thrown) {
    const error = ConnectError.from(thrown);
    const code = CODES[error.code] ?? String(error.code);
    if (code !== expect.code) {
      throw new StepFailed(`status ${code} (${error.rawMessage}), expected ${expect.code}`);
    }
    checkError(error, expect);
    return;
  }
  if (expect.code !== "OK") {
    throw new StepFailed(`status OK, expected ${expect.code}`);
  }
  replies.set(step.name, reply);
  checkResponse(reply, expect.response ?? []);
}

/** Compares the google.rpc details of an error with the expectation. */
function checkError(error: ConnectError, expect: Expectation): void {
  if (expect.badRequest !== undefined) {
    const got = error
      .findDetails(BadRequestSchema)
      .flatMap((detail) => detail.fieldViolations.map((v) => `${v.field}:${v.reason}`))
      .sort();
    const wanted = expect.badRequest.map((v) => `${v.field}:${v.reason}`).sort();
    if (JSON.stringify(got) !== JSON.stringify(wanted)) {
      throw new StepFailed(`field violations ${JSON.stringify(got)}, expected ${JSON.stringify(wanted)}`);
    }
  }
  if (expect.retryInfo !== undefined) {
    const delays = error
      .findDetails(RetryInfoSchema)
      .map((detail) => Number(detail.retryDelay?.seconds ?? 0n) + (detail.retryDelay?.nanos ?? 0) / 1e9);
    const least = expect.retryInfo.minDelaySeconds;
    if (delays[0] === undefined || delays[0] < least) {
      throw new StepFailed(`retry delays ${JSON.stringify(delays)}, expected one of at least ${least} s`);
    }
  }
}
