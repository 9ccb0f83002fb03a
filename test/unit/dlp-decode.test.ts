/**
 * The content checks against an agent that encodes, nests, splits and floods: budgets fail
 * closed, every encoding chain of a secret is found, fragments of the bottle's own secret are
 * found, data across host labels is found, and ordinary developer traffic has no finding.
 */
/* eslint-disable @typescript-eslint/no-misused-spread -- the strings spread here are ASCII */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import { hostExfiltration } from "../../src/sidecar/dlp/exfil-shapes.js";
import { firstSecret } from "../../src/sidecar/dlp/secret-patterns.js";
import type { InspectedRequest } from "../../src/sidecar/shared/content-inspector.js";

// Fake tokens, built from pieces so that this file itself holds none.
const GHP = ["gh", "p_", "FAKEfake0123456789abcdefABCDEF012345"].join("");
const AWS = ["AK", "IA", "FAKEFAKEFAKE2345"].join("");
const OWN = ["bottle", "Own", "Secret", "9f3K2mQx7Lp4Zt8w"].join("");

function inspector(): DlpInspector {
  return new DlpInspector({ ownSecrets: [OWN] });
}

function body(payload: string | Buffer, headers: InspectedRequest["headers"] = {}): string[] {
  return inspector()
    .inspectRequest({
      method: "POST",
      host: "api.example.test",
      path: "/upload",
      headers: { "content-type": "application/octet-stream", ...headers },
      body:
        typeof payload !== "string"
          ? payload
          : // eslint-disable-next-line no-control-regex
            Buffer.from(payload, /[^\x00-\xff]/.test(payload) ? "utf8" : "latin1"),
    })
    .map((finding) => finding.kind);
}

let seed = 1234567;
function random(n: number): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed % n;
}

const b64 = (s: string): string => Buffer.from(s, "latin1").toString("base64");
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
function base32(s: string): string {
  let bits = "";
  for (const byte of Buffer.from(s, "latin1")) bits += byte.toString(2).padStart(8, "0");
  let out = "";
  for (let at = 0; at < bits.length; at += 5)
    out += BASE32.charAt(parseInt(bits.slice(at, at + 5).padEnd(5, "0"), 2));
  return out;
}

/** Encodings an agent could wrap a secret in; each takes and gives latin1 text. */
const ENCODINGS: Record<string, (s: string) => string> = {
  base64: b64,
  base64url: (s) => Buffer.from(s, "latin1").toString("base64url"),
  base64Wrapped: (s) => b64(s).replace(/(.{4})/g, "$1\n"),
  base32Upper: (s) => base32(s),
  base32Lower: (s) => base32(s).toLowerCase(),
  hex: (s) => Buffer.from(s, "latin1").toString("hex"),
  hexColons: (s) =>
    Buffer.from(s, "latin1")
      .toString("hex")
      .replace(/(..)(?!$)/g, "$1:"),
  backslashX: (s) =>
    [...Buffer.from(s, "latin1")].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join(""),
  backslashU: (s) =>
    [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
  backslashBraced: (s) => [...s].map((c) => `\\u{${c.charCodeAt(0).toString(16)}}`).join(""),
  percent: (s) =>
    [...Buffer.from(s, "latin1")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
  htmlDecimal: (s) => [...s].map((c) => `&#${c.charCodeAt(0)};`).join(""),
  htmlHex: (s) => [...s].map((c) => `&#x${c.charCodeAt(0).toString(16)};`).join(""),
  htmlNamed: (s) => s.replace(/_/g, "&lowbar;").replace(/-/g, "&hyphen;"),
  utf16le: (s) => Buffer.from(s, "utf16le").toString("latin1"),
  utf16beBom: (s) => Buffer.from(`\ufeff${s}`, "utf16le").swap16().toString("latin1"),
  gzip: (s) => zlib.gzipSync(Buffer.from(s, "latin1")).toString("latin1"),
  deflateRaw: (s) => zlib.deflateRawSync(Buffer.from(s, "latin1")).toString("latin1"),
};

describe("budgets fail closed", () => {
  it("70 decoy base64 runs before the secret: the secret is still found", () => {
    // Before: the 64-layer cap was spent on the decoys and the secret went out (no finding).
    const decoys = Array.from({ length: 70 }, (_, i) => b64(`decoy number ${i} of a flood`));
    assert.deepEqual(body([...decoys, b64(`key=${GHP}`)].join(" ")), ["github-token"]);
  });

  it("a secret past the first 64 KB of one base64 run is found", () => {
    // Before: runs were cut at 64 KB and what followed was never decoded.
    const run = b64(`${"a".repeat(64 * 1024)} ${GHP}`);
    assert.deepEqual(body(run), ["github-token"]);
  });

  it("a flood of layers past the budget is a dlp:budget finding, never an allow", () => {
    // Nesting past the depth budget: the checks cannot finish, so the request is refused.
    let nested = `nothing here at all`;
    for (let i = 0; i < 30; i += 1) nested = b64(nested);
    assert.deepEqual(body(nested), ["dlp:budget"]);
  });

  it("a compression bomb is refused, not read in part", () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x41));
    assert.deepEqual(body(bomb), ["dlp:budget"]);
  });
});

describe("encodings, to a fixed point", () => {
  it("raw deflate as the whole body is found", () => {
    assert.deepEqual(body(zlib.deflateRawSync(Buffer.from(`key ${GHP}`))), ["github-token"]);
  });

  for (const [name, encode] of Object.entries(ENCODINGS)) {
    if (name === "deflateRaw") continue;
    it(`${name}: a provider token and the bottle's own secret are found`, () => {
      assert.notDeepEqual(body(`data=${encode(GHP)}&x=1`), [], name);
      assert.notDeepEqual(body(`data=${encode(OWN)}&x=1`), [], name);
    });
  }

  it("base64 three times and percent-encoding four times are found", () => {
    assert.deepEqual(body(b64(b64(b64(GHP)))), ["github-token"]);
    let percent = AWS;
    for (let i = 0; i < 4; i += 1)
      percent = ENCODINGS["percent"]?.(percent).replace(/%/g, "%25") ?? "";
    assert.deepEqual(body(percent), ["aws-access-key-id"]);
  });

  it("a gzip body sent without or with identity Content-Encoding, and in a multipart part", () => {
    const gz = zlib.gzipSync(Buffer.from(`token: ${GHP}\n`));
    assert.deepEqual(body(gz), ["github-token"]);
    assert.deepEqual(body(gz, { "content-encoding": "identity" }), ["github-token"]);
    const multipart = Buffer.concat([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="f"; filename="x.gz"\r\n\r\n'),
      gz,
      Buffer.from("\r\n--b--\r\n"),
    ]);
    assert.deepEqual(body(multipart, { "content-type": "multipart/form-data; boundary=b" }), [
      "github-token",
    ]);
  });

  it("Unicode lookalikes, fullwidth letters and invisible characters are normalised", () => {
    const fullwidth = [...GHP].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join("");
    assert.deepEqual(body(fullwidth), ["github-token"]);
    assert.deepEqual(body([...GHP].join("\u200b")), ["github-token"]);
    assert.deepEqual(body(AWS.replace(/A/g, "\u0410").replace(/K/g, "\u039a")), [
      "aws-access-key-id",
    ]);
    assert.deepEqual(body(`${GHP.slice(0, 10)}\u00ad${GHP.slice(10)}`), ["github-token"]);
  });

  it("random chains of three to five encodings of a secret are all found", () => {
    // Raw deflate has no magic: it is read where it is the whole body (above), not inside text.
    const names = Object.keys(ENCODINGS).filter((n) => n !== "deflateRaw");
    for (let round = 0; round < 150; round += 1) {
      const secret = round % 2 === 0 ? GHP : OWN;
      let text = `the value is ${secret} ok`;
      const chain: string[] = [];
      for (let i = 0, n = 3 + random(3); i < n; i += 1) {
        const name = names[random(names.length)] ?? "base64";
        chain.push(name);
        text = ENCODINGS[name]?.(text) ?? text;
      }
      const found = body(text);
      assert.ok(
        found.length > 0 && !found.includes("dlp:budget"),
        chain.join(" > ") + found.join(),
      );
    }
  });
});

describe("the bottle's own secret in fragments", () => {
  it("each half of the secret, in its own request, is found, in any letter case", () => {
    const half = Math.ceil(OWN.length / 2);
    assert.deepEqual(body(`part one: ${OWN.slice(0, half)}`), ["own-secret"]);
    assert.deepEqual(body(`part two: ${OWN.slice(half)}`), ["own-secret"]);
    assert.deepEqual(body(OWN.slice(5, 21).toUpperCase()), ["own-secret"]);
    assert.deepEqual(body(b64(OWN.slice(8, 24).toLowerCase())), ["own-secret"]);
  });

  it("a piece shorter than the fragment length passes", () => {
    assert.deepEqual(body(`x ${OWN.slice(3, 13)} y`), []);
  });
});

describe("host names, labels judged together", () => {
  it("base32 and hex data in short labels under a wildcard is refused", () => {
    const data = base32("the secret data here").toLowerCase();
    const labels = data.match(/.{1,15}/g)?.join(".") ?? "";
    assert.notEqual(hostExfiltration(`${labels}.x.allowed.test`), null);
    assert.notEqual(hostExfiltration("mfrgg2lt.nfxgc3tf.x.allowed.test"), null);
    const hex = Buffer.from("secret data here").toString("hex");
    assert.notEqual(
      hostExfiltration(`${hex.slice(0, 10)}.${hex.slice(10, 20)}.${hex.slice(20)}.allowed.test`),
      null,
    );
    const own = OWN.toLowerCase();
    const host = `${own.slice(0, 10)}.${own.slice(10, 20)}.${own.slice(20)}.x.allowed.test`;
    assert.notDeepEqual(inspector().inspectHost(host), []);
  });

  it("ordinary CDN, registry and service host names pass", () => {
    for (const host of [
      "registry.npmjs.org",
      "objects.githubusercontent.com",
      "raw.githubusercontent.com",
      "pkg-containers.githubusercontent.com",
      "d1234abcd.cloudfront.net",
      "d3i4yxtzktqr9n.cloudfront.net",
      "codeload.github.com",
      "api.github.com",
      "files.pythonhosted.org",
      "pypi.org",
      "proxy.golang.org",
      "index.crates.io",
      "static.crates.io",
      "registry-1.docker.io",
      "production.cloudflare.docker.com",
      "s3.us-east-1.amazonaws.com",
      "github-cloud.s3.amazonaws.com",
      "prod-registry-k8s-io-us-east-1.s3.dualstack.us-east-1.amazonaws.com",
      "storage.googleapis.com",
      "lh3.googleusercontent.com",
      "e12345.dscb.akamaiedge.net",
      "a248.e.akamai.net",
      "cdn.jsdelivr.net",
      "dl-cdn.alpinelinux.org",
      "security.ubuntu.com",
      "us-east-1.ec2.archive.ubuntu.com",
      "api.anthropic.com",
      "statsig.anthropic.com",
      "sentry.io",
      "o123456.ingest.sentry.io",
      "fonts.gstatic.com",
      "ajax.googleapis.com",
    ]) {
      assert.equal(hostExfiltration(host), null, host);
      assert.deepEqual(inspector().inspectHost(host), [], host);
    }
  });
});

describe("ordinary developer traffic", () => {
  const root = process.cwd();
  function files(dir: string, ext: string, limit: number): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "node_modules" && !entry.name.startsWith(".")) {
        out.push(...files(full, ext, limit));
      } else if (entry.name.endsWith(ext)) out.push(full);
      if (out.length >= limit) break;
    }
    return out;
  }

  it("the repository's source, package-lock.json and TypeScript's .d.ts files have no finding", () => {
    const paths = [
      ...files(path.join(root, "src"), ".ts", 400),
      path.join(root, "package-lock.json"),
      ...files(path.join(root, "node_modules/typescript/lib"), ".d.ts", 40),
    ].filter((p) => fs.existsSync(p));
    assert.ok(paths.length > 20);
    const check = inspector();
    for (const file of paths) {
      const text = fs.readFileSync(file);
      // A file the detectors flag as it is (a placeholder shaped like a token) is theirs to
      // judge; what is checked here is that decoding and normalising add no finding.
      if (firstSecret(text.toString("utf8")) !== null) continue;
      const found = check.inspectRequest({
        method: "POST",
        host: "api.example.test",
        path: "/",
        headers: { "content-type": "text/plain" },
        body: text,
      });
      assert.deepEqual(found, [], file);
    }
  });

  it("JSON API bodies have no finding", () => {
    const bodies = [
      { model: "claude", messages: [{ role: "user", content: "Refactor src/index.ts please" }] },
      {
        name: "left-pad",
        version: "1.3.0",
        dist: { shasum: "5b8a3a7765dfe8cdd0f5a7e7d5b5fbe1a3fa4e3a" },
      },
      {
        id: "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
        created_at: "2026-12-02T09:00:00Z",
        tags: ["a"],
      },
      {
        sha: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
        tree: { url: "https://api.github.com/repos/o/r/git/trees/e69de29" },
      },
    ];
    for (const value of bodies) {
      assert.deepEqual(body(JSON.stringify(value), { "content-type": "application/json" }), []);
    }
  });
});
