import createClient from "openapi-fetch";
import type { ProblemCode } from "../i18n/messages";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
/** Responses typed as JSON: the CSV exports are read as text where they are downloaded. */
type Json = "application/json";
export type Api = ReturnType<typeof createClient<paths, Json>>;

/** The API, with the signed-in user's ID token on every call once there is one. */
export function apiClient(baseUrl: string, token: () => Promise<string | null>): Api {
  const client = createClient<paths, Json>({ baseUrl: baseUrl.replace(/\/$/, "") });
  client.use({
    async onRequest({ request }) {
      const bearer = await token();
      if (bearer) request.headers.set("Authorization", `Bearer ${bearer}`);
      return request;
    },
  });
  return client;
}

/** A fresh key for one attempt at a write, kept by the caller across its retries. */
export function idempotencyKey(): string {
  return crypto.randomUUID();
}

/** What went wrong with a call, in terms the pages turn into sentences. */
export type Failure = { kind: "problem"; problem: Schemas["Problem"] } | { kind: "network" };

export function failure(error: unknown): Failure {
  if (error && typeof error === "object" && "code" in error && "status" in error) {
    return { kind: "problem", problem: error as Schemas["Problem"] };
  }
  if (error && typeof error === "object" && "message" in error) {
    // API Gateway's own answers (401, 404, 413) carry only a message.
    return {
      kind: "problem",
      problem: {
        type: "about:blank",
        title: "",
        status: 0,
        detail: String((error as { message: unknown }).message),
        code: "INTERNAL" satisfies ProblemCode,
      },
    };
  }
  return { kind: "network" };
}
