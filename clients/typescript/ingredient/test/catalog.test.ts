// The ingredient SDK against a running ingredient (INGREDIENT_URL) with an access token
// htma issued (INGREDIENT_TOKEN): search, one ingredient, the richest foods, and one
// problem answer. Compiled by tsc first, so a path or field the API no longer has fails
// the build before any request is sent.
import assert from "node:assert/strict";
import { test } from "node:test";

import { createIngredientClient, isProblem } from "../src/index.js";

const baseUrl = process.env.INGREDIENT_URL;
const token = process.env.INGREDIENT_TOKEN;

test("search the catalog, read an ingredient, rank foods by a mineral", { skip: !baseUrl }, async () => {
  const catalog = createIngredientClient({ baseUrl: baseUrl!, token });

  const found = await catalog.GET("/v1/ingredients", { params: { query: { q: "bean", limit: 5 } } });
  assert.equal(found.response.status, 200, JSON.stringify(found.error));
  assert.ok(found.data);
  assert.ok(found.data.items.length > 0);
  assert.ok(found.data.items.length <= 5);
  const first = found.data.items[0]!;

  const one = await catalog.GET("/v1/ingredients/{code}", { params: { path: { code: first.code } } });
  assert.equal(one.response.status, 200);
  assert.equal(one.data?.code, first.code);
  assert.ok(one.data?.minerals.length);

  const richest = await catalog.GET("/v1/minerals/{mineral}/richest", {
    params: { path: { mineral: "Zn" }, query: { limit: 3 } },
  });
  assert.equal(richest.response.status, 200, JSON.stringify(richest.error));
  assert.ok(richest.data);

  // A problem answer: an unknown code is 404 application/problem+json with its code.
  const missing = await catalog.GET("/v1/ingredients/{code}", { params: { path: { code: "ZZ999" } } });
  assert.equal(missing.response.status, 404);
  assert.equal(missing.response.headers.get("content-type"), "application/problem+json");
  assert.ok(isProblem(missing.error));
  assert.match(String(missing.error.code), /not_found/);

  // Without a token the catalog answers 401, as a problem.
  const anonymous = createIngredientClient({ baseUrl: baseUrl! });
  const refused = await anonymous.GET("/v1/ingredients/{code}", { params: { path: { code: first.code } } });
  assert.equal(refused.response.status, 401);
  assert.ok(isProblem(refused.error));
});
