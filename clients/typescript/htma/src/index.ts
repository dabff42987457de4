/**
 * Typed client of the htma service, generated from its OpenAPI document:
 * `python tools/api_contract.py sdk` writes `schema.ts` (openapi-typescript) and this file
 * (from clients/templates/index.ts.template, the same for every service).
 *
 * Paths, parameters, bodies and answers are typed by `schema.ts`; problem answers
 * (RFC 9457) come back as `error`, typed `Problem`.
 *
 * @example
 * const htma = createHtmaClient({ baseUrl: "http://127.0.0.1:8000", token: () => accessToken });
 * const { data, error } = await htma.GET("/v1/me");
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** An RFC 9457 problem answer, as every spaps service gives for an error. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  request_id?: string;
  [extension: string]: unknown;
}

export interface HtmaClientOptions {
  /** The service's base URL, e.g. `https://htma.example.com`. */
  baseUrl: string;
  /** A bearer token, or a function giving the current one (refreshed tokens). */
  token?: string | (() => string | undefined);
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** A `fetch` implementation (tests, proxies); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

function bearer(token: string | (() => string | undefined)): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof token === "function" ? token() : token;
      if (value !== undefined && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${value}`);
      }
      return request;
    },
  };
}

/** A client of the htma API whose every path and field is typed. */
export function createHtmaClient(options: HtmaClientOptions): Client<paths> {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    headers: options.headers,
    fetch: options.fetch,
  });
  if (options.token !== undefined) {
    client.use(bearer(options.token));
  }
  return client;
}

/** Whether an error answer is a problem document (it always is from a spaps service). */
export function isProblem(value: unknown): value is Problem {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Problem).type === "string" &&
    typeof (value as Problem).status === "number"
  );
}
