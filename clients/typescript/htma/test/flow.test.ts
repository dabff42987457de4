// The htma SDK against a running htma (HTMA_URL): sign up a clinic, sign in, then the main
// routes, and one problem answer. Compiled by tsc first, so a path or field the API no
// longer has fails the build before any request is sent.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";

import { createHtmaClient, isProblem } from "../src/index.js";

const baseUrl = process.env.HTMA_URL;
const PASSWORD = "Correct-Horse-Battery-9"; // pragma: allowlist secret

test("sign up, sign in, add a patient, submit and read a panel", { skip: !baseUrl }, async () => {
  const clinic = `sdk-${randomBytes(4).toString("hex")}`;
  const anonymous = createHtmaClient({ baseUrl: baseUrl! });
  const signup = await anonymous.POST("/v1/auth/signup", {
    body: {
      clinic_id: clinic,
      clinic_name: "SDK Clinic",
      email: `admin@${clinic}.example`,
      password: PASSWORD,
      display_name: "Ada Admin",
    },
  });
  assert.equal(signup.response.status, 201, JSON.stringify(signup.error));
  assert.ok(signup.data);
  assert.equal(signup.data.user.role, "lab_admin");

  const login = await anonymous.POST("/v1/auth/login", {
    body: { email: `admin@${clinic}.example`, password: PASSWORD },
  });
  assert.equal(login.response.status, 200, JSON.stringify(login.error));
  assert.ok(login.data);
  const admin = createHtmaClient({ baseUrl: baseUrl!, token: login.data.access_token });

  const me = await admin.GET("/v1/me");
  assert.equal(me.response.status, 200);
  assert.equal(me.data?.email, `admin@${clinic}.example`);

  const patient = await admin.POST("/v1/users", {
    body: {
      email: `patient@${clinic}.example`,
      password: PASSWORD,
      display_name: "Pat Patient",
      role: "patient",
    },
  });
  assert.equal(patient.response.status, 201, JSON.stringify(patient.error));
  const practitioner = await admin.POST("/v1/users", {
    body: {
      email: `practitioner@${clinic}.example`,
      password: PASSWORD,
      display_name: "Dr Pia Practitioner",
      role: "practitioner",
    },
  });
  assert.equal(practitioner.response.status, 201, JSON.stringify(practitioner.error));
  const users = await admin.GET("/v1/users");
  assert.equal(users.response.status, 200);
  assert.equal(users.data?.length, 3);

  const signin = await anonymous.POST("/v1/auth/login", {
    body: { email: `practitioner@${clinic}.example`, password: PASSWORD },
  });
  assert.ok(signin.data, JSON.stringify(signin.error));
  const clinician = createHtmaClient({ baseUrl: baseUrl!, token: () => signin.data?.access_token });
  const submitted = await clinician.POST("/v1/panels", {
    body: {
      patient_id: patient.data!.id,
      sampled_on: "2026-11-20",
      minerals: { Ca: 40, Mg: 3, Na: 25, K: 10, P: 16, Zn: 16, Cu: 2.5, Fe: 2.2 },
    },
  });
  assert.equal(submitted.response.status, 202, JSON.stringify(submitted.error));
  const panel = await clinician.GET("/v1/panels/{panel_id}", {
    params: { path: { panel_id: submitted.data!.id } },
  });
  assert.equal(panel.response.status, 200);
  assert.equal(panel.data?.patient_id, patient.data!.id);

  // A problem answer: an unknown panel is 404 application/problem+json with its code.
  const missing = await clinician.GET("/v1/panels/{panel_id}", {
    params: { path: { panel_id: "00000000-0000-4000-8000-000000000000" } },
  });
  assert.equal(missing.response.status, 404);
  assert.equal(missing.response.headers.get("content-type"), "application/problem+json");
  assert.ok(isProblem(missing.error));
  assert.equal(missing.error.status, 404);
  assert.match(String(missing.error.code), /not_found/);

  // Without a token the API answers 401, as a problem.
  const anonymousMe = await anonymous.GET("/v1/me");
  assert.equal(anonymousMe.response.status, 401);
  assert.ok(isProblem(anonymousMe.error));
});
