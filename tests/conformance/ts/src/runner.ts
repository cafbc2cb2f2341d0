// The TypeScript conformance runner: @acme/api (gen/ts) with a Connect v2 client over gRPC.
//
//   tsx src/runner.ts session SCENARIO CONFIG   # data/session.json against a live stack
//   tsx src/runner.ts vectors VECTORS           # data/vectors.json: decode and re-encode
//
// CONFIG is JSON: {"targets": {"<proto service>": "host:port"}, "inputs": {...}}. Prints
// `PASS name` or `FAIL name: why` per step (or vector), then `N passed, N failed`; exits 1 when
// anything failed. The data formats are in tests/conformance/README.md.
import { readFileSync } from "node:fs";

import { session, type Step } from "./session.js";
import { StepFailed } from "./values.js";
import { roundTrip, type Vector } from "./vectors.js";

function read<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

function vectors(file: string): [string, string | undefined][] {
  return read<{ vectors: Vector[] }>(file).vectors.map((vector) => {
    try {
      roundTrip(vector);
      return [vector.name, undefined];
    } catch (error) {
      return [vector.name, error instanceof StepFailed ? error.message : String(error)];
    }
  });
}

async function main(args: string[]): Promise<number> {
  let outcomes: [string, string | undefined][];
  if (args.length === 3 && args[0] === "session") {
    outcomes = await session(read<{ steps: Step[] }>(args[1] ?? "").steps, read(args[2] ?? ""));
  } else if (args.length === 2 && args[0] === "vectors") {
    outcomes = vectors(args[1] ?? "");
  } else {
    console.error("usage: runner.ts session SCENARIO CONFIG | runner.ts vectors VECTORS");
    return 2;
  }
  for (const [name, failure] of outcomes) {
    console.log(failure === undefined ? `PASS ${name}` : `FAIL ${name}: ${failure}`);
  }
  const failed = outcomes.filter(([, failure]) => failure !== undefined).length;
  console.log(`${outcomes.length - failed} passed, ${failed} failed`);
  return failed > 0 || outcomes.length === 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
