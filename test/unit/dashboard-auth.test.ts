/** PURE: who may talk to the dashboard (auth.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RequestFacts } from "../../src/dashboard/auth.js";
import { admit, cookieName, makeSecrets, sessionCookie } from "../../src/dashboard/auth.js";

const PORT = 4321;
const secrets = makeSecrets();
const cookie = `${cookieName(PORT)}=${secrets.session}`;
const base: RequestFacts = {
  method: "GET",
  url: "/api/requests",
  host: `127.0.0.1:${PORT}`,
  origin: undefined,
  secFetchSite: undefined,
  cookie,
  authorization: undefined,
};

describe("dashboard admission", () => {
  it("passes the session cookie and the bearer token, nothing else", () => {
    assert.deepEqual(admit(base, PORT, secrets), { kind: "pass", by: "cookie" });
    const bearer = { ...base, cookie: undefined, authorization: `Bearer ${secrets.token}` };
    assert.deepEqual(admit(bearer, PORT, secrets), { kind: "pass", by: "bearer" });
    for (const facts of [
      { ...base, cookie: undefined },
      { ...base, cookie: `${cookieName(PORT)}=${secrets.token}` },
      { ...base, cookie: `${cookieName(PORT + 1)}=${secrets.session}` },
      { ...base, cookie: undefined, authorization: "Bearer nope" },
      { ...base, cookie: undefined, authorization: `Basic ${secrets.token}` },
    ]) {
      const got = admit(facts, PORT, secrets);
      assert.equal(got.kind === "refuse" && got.status, 401, JSON.stringify(facts));
    }
  });

  it("refuses other hosts (DNS rebinding) and other origins or sites (CSRF) with 403", () => {
    for (const facts of [
      { ...base, host: `evil.example:${PORT}` },
      { ...base, host: `127.0.0.1:${PORT + 1}` },
      { ...base, host: undefined },
      { ...base, origin: "http://evil.example" },
      { ...base, origin: `http://127.0.0.1:${PORT + 1}` },
      { ...base, origin: "null" },
      { ...base, secFetchSite: "cross-site" },
      { ...base, secFetchSite: "same-site" },
      { ...base, method: "POST", url: "/api/actions" },
    ]) {
      const got = admit(facts, PORT, secrets);
      assert.equal(got.kind === "refuse" && got.status, 403, JSON.stringify(facts));
    }
    const post = { ...base, method: "POST", origin: `http://127.0.0.1:${PORT}` };
    assert.equal(admit(post, PORT, secrets).kind, "pass");
    assert.equal(admit({ ...base, host: `localhost:${PORT}` }, PORT, secrets).kind, "pass");
  });

  it("exchanges the token for the cookie on a page load only, and drops it from the address", () => {
    const load = { ...base, url: `/?token=${secrets.token}&x=1`, cookie: undefined };
    assert.deepEqual(admit(load, PORT, secrets), {
      kind: "exchange",
      location: "/?x=1",
      hop: false,
    });
    const onApi = { ...load, url: `/api/requests?token=${secrets.token}` };
    assert.equal(admit(onApi, PORT, secrets).kind, "refuse");
    assert.equal(admit({ ...load, url: "/?token=wrong" }, PORT, secrets).kind, "refuse");
    const set = sessionCookie(PORT, secrets);
    assert.match(set, /HttpOnly/);
    assert.match(set, /SameSite=Strict/);
    assert.ok(!set.includes(secrets.token), "the cookie is not the token");
  });

  it("takes the token's exchange from another site (the opener's file) with a hop page, nothing else", () => {
    const load = {
      ...base,
      url: `/?token=${secrets.token}`,
      cookie: undefined,
      secFetchSite: "cross-site",
    };
    assert.deepEqual(admit(load, PORT, secrets), { kind: "exchange", location: "/", hop: true });
    assert.equal(admit({ ...load, url: "/?token=wrong" }, PORT, secrets).kind, "refuse");
    assert.equal(admit({ ...load, method: "POST" }, PORT, secrets).kind, "refuse");
    assert.equal(
      admit({ ...load, url: `/api/requests?token=${secrets.token}` }, PORT, secrets).kind,
      "refuse",
    );
    const withCookie = { ...base, secFetchSite: "cross-site" };
    assert.equal(admit(withCookie, PORT, secrets).kind, "refuse", "a cookie is not enough");
  });
});
