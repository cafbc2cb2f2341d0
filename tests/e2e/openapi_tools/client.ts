// A client of the served OpenAPI document through openapi-fetch, typed by what
// openapi-typescript generated from that document (./api.ts, written by the test beside this
// file): register, sign in, read yourself, and one refused request. It prints one JSON line.
// Run as `node client.js <base URL> <email>` once tsc has compiled it (strict, no DOM types
// beyond fetch's).
import createClient from "openapi-fetch";
import type { paths } from "./api.js";

declare const process: { argv: string[] };

const [baseUrl, email] = process.argv.slice(2) as [string, string];
const password = "correct horse battery";
const client = createClient<paths>({ baseUrl });

const created = await client.POST("/v1/users", {
  body: { email, displayName: "Ada", password },
});
if (created.data === undefined) throw new Error(`register: ${JSON.stringify(created.error)}`);
const id = created.data.id ?? "";

const login = await client.POST("/v1/auth/login", { body: { email, password } });
if (login.data === undefined) throw new Error(`login: ${JSON.stringify(login.error)}`);

const read = await client.GET("/v1/users/{id}", {
  params: { path: { id } },
  headers: { Authorization: `Bearer ${login.data.accessToken ?? ""}` },
});
if (read.data === undefined) throw new Error(`read: ${JSON.stringify(read.error)}`);

const refused = await client.POST("/v1/users", {
  body: { email, displayName: "", password },
});
const violations = (refused.error?.violations ?? []).map((v) => `${v.field}/${v.rule ?? ""}`);

console.log(
  JSON.stringify({
    id,
    displayName: read.data.displayName,
    status: refused.response.status,
    violations,
  }),
);
