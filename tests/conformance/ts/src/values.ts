// Values of the scenario: variables, dotted paths and the response checks.
import { isDeepStrictEqual } from "node:util";
import type { JsonValue } from "@bufbuild/protobuf";

export type Json = JsonValue;
export type Replies = Map<string, Json>;

/** Why a step (or a vector) did not pass. */
export class StepFailed extends Error {}

const VARIABLE = /\$\{([^}]+)\}/g;

/** The value at a dotted path (a number indexes a list), or undefined. */
export function lookup(value: Json | undefined, path: string): Json | undefined {
  for (const key of path.split(".")) {
    if (Array.isArray(value)) {
      value = /^\d+$/.test(key) ? value[Number(key)] : undefined;
    } else if (value !== null && typeof value === "object" && Object.hasOwn(value, key)) {
      value = value[key];
    } else {
      return undefined;
    }
  }
  return value;
}

/** `value` with every `${step.path}` and `${input.name}` in its strings replaced. */
export function substitute(value: Json, inputs: Json, replies: Replies): Json {
  if (typeof value === "string") {
    return value.replace(VARIABLE, (found: string, reference: string) => {
      const [name = "", ...path] = reference.split(".");
      const resolved = lookup(name === "input" ? inputs : replies.get(name), path.join("."));
      if (resolved === undefined) {
        throw new StepFailed(`unresolved ${found}`);
      }
      return typeof resolved === "string" ? resolved : JSON.stringify(resolved);
    });
  }
  if (Array.isArray(value)) {
    return value.map((item) => substitute(item, inputs, replies));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, inputs, replies)]),
    );
  }
  return value;
}

function isPresent(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === "") {
    return false;
  }
  if (Array.isArray(value)) {
    return value.length > 0;
  }
  return typeof value !== "object" || Object.keys(value).length > 0;
}

function show(value: Json | undefined): string {
  return value === undefined ? "missing" : JSON.stringify(value);
}

export interface Check {
  path: string;
  equals?: Json;
  notEquals?: Json;
  present?: boolean;
  length?: number;
}

/** Applies a step's response checks to the proto3 JSON of the reply. */
export function checkResponse(reply: Json, checks: Check[]): void {
  for (const check of checks) {
    const found = lookup(reply, check.path);
    if (check.equals !== undefined && !isDeepStrictEqual(found, check.equals)) {
      throw new StepFailed(`${check.path} is ${show(found)}, expected ${show(check.equals)}`);
    }
    if (check.notEquals !== undefined && isDeepStrictEqual(found, check.notEquals)) {
      throw new StepFailed(`${check.path} is ${show(found)}, expected anything else`);
    }
    if (check.present !== undefined && isPresent(found) !== check.present) {
      throw new StepFailed(`${check.path} is ${show(found)}, expected present=${check.present}`);
    }
    if (check.length !== undefined && !(Array.isArray(found) && found.length === check.length)) {
      throw new StepFailed(`${check.path} is ${show(found)}, expected ${check.length} items`);
    }
  }
}
