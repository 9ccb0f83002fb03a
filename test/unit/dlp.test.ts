// The content checks on their own: each detector with a true positive and a near miss, the
// bottle's own secrets in every encoding, split across parameters, compressed bodies, host names
// and paths that carry data, and WebSocket messages. All tokens here are fake.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import { BackgroundScanner, ScannerStopped } from "../../src/sidecar/dlp/background-scanner.js";
import { charClass, classRuns } from "../../src/sidecar/dlp/char-runs.js";
import { decodeLayers } from "../../src/sidecar/dlp/decode-layers.js";
import { hostExfiltration, randomPathSegment } from "../../src/sidecar/dlp/exfil-shapes.js";
import { OwnSecrets } from "../../src/sidecar/dlp/own-secrets.js";
import { SECRET_PATTERNS, firstSecret } from "../../src/sidecar/dlp/secret-patterns.js";

const OWN = "bb-own-FAKE-token-7f3a9c2e1d";
const inspector = new DlpInspector({
  ownSecrets: [OWN],
  placeholders: ["sk-ant-api03-placeholder-held-by-bot-bottle-0000000000"],
  maxBodyBytes: 64 * 1024,
});

function kinds(text: string): string[] {
  return SECRET_PATTERNS.filter((p) => p.find(text)).map((p) => p.kind);
}

function request(path: string, extra: { headers?: Record<string, string>; body?: Buffer } = {}) {
  return inspector.inspectRequest({
    method: "POST",
    host: "api.example.test",
    path,
    headers: extra.headers ?? {},
    ...(extra.body === undefined ? {} : { body: extra.body }),
  });
}

describe("secret detectors", () => {
  const cases: [string, string, string][] = [
    ["anthropic-api-key", "sk-ant-api03-FAKEfakeFAKEfake0123456789", "sk-ant-notakey"],
    ["openai-api-key", "sk-proj-FAKEfakeFAKEfake0123456789", "sk-proj-short"],
    ["github-token", "ghp_FAKEfakeFAKEfake0123456789abcdefAB", "ghp_short"],
    ["gitlab-token", "glpat-FAKEfakeFAKE01234567", "glpat-x"],
    ["aws-access-key-id", "AKIAFAKEFAKEFAKE1234", "AKIAFAKE"],
    [
      "aws-secret-access-key",
      "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY123",
      "wjalrxutnfemik7mdengbpxrficyfakekey12345",
    ],
    ["google-api-key", "AIzaFAKEfakeFAKEfake0123456789abcdefghi", "AIzaShort"],
    ["slack-token", "xoxb-0123456789-FAKEfake", "xoxb-1"],
    ["npm-token", "npm_FAKEfakeFAKEfake0123456789abcdefABCD", "npm_install"],
    ["stripe-key", "sk_live_FAKEfakeFAKEfake0123", "sk_live_x"],
    [
      "private-key",
      `-----BEGIN OPENSSH PRIVATE KEY-----\n${"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ".repeat(2)}`,
      "-----BEGIN OPENSSH PRIVATE KEY-----\n${key}",
    ],
    [
      "jwt",
      "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
      "eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiJ4In0.c2ln",
    ],
    ["bitcoin-address", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"],
  ];
  for (const [kind, positive, nearMiss] of cases) {
    it(`${kind}: found, and a near miss is not`, () => {
      assert.ok(kinds(`x ${positive} y`).includes(kind), positive);
      // The same through the shared prefix test: a prefix missing from it would hide the kind.
      assert.equal(firstSecret(`x ${positive} y`), kind, positive);
      assert.ok(!kinds(`x ${nearMiss} y`).includes(kind), nearMiss);
    });
  }
});

describe("decoding layers", () => {
  it("unwraps percent-encoding (twice), base64 at any alignment, and delimited hex", () => {
    const secret = "AKIAFAKEFAKEFAKE1234";
    const twice = Buffer.from(secret).toString("hex").replace(/(..)/g, "%25$1");
    assert.ok(decodeLayers(twice).includes(secret));
    const b64 = Buffer.from(`xx${secret}yy`).toString("base64");
    assert.ok(decodeLayers(b64).some((layer) => layer.includes(secret)));
    const hex = Buffer.from(secret).toString("hex").replace(/(..)/g, "$1:");
    assert.ok(decodeLayers(hex).some((layer) => layer.includes(secret)));
  });
});

describe("the bottle's own secrets", () => {
  const own = new OwnSecrets([OWN, "short"]);
  it("are found raw, percent-encoded, in base64 at every alignment (both alphabets), and in hex", () => {
    assert.ok(own.foundIn(`a ${OWN} b`));
    assert.ok(own.foundIn(encodeURIComponent(`!${OWN}`)));
    for (const prefix of ["", "a", "ab", "abc"]) {
      const blob = Buffer.from(`${prefix}${OWN}tail`).toString("base64");
      assert.ok(own.foundIn(blob), `base64 after ${prefix.length} bytes`);
      assert.ok(own.foundIn(Buffer.from(`${prefix}${OWN}tail`).toString("base64url")));
    }
    assert.ok(own.foundIn(Buffer.from(OWN).toString("hex").toUpperCase()));
    assert.ok(!own.foundIn("short text with nothing"), "secrets under 8 characters are ignored");
  });

  it("are refused in a URL, split across parameters, in a header and in a body", () => {
    assert.deepEqual(request(`/x?q=${OWN}`), [{ kind: "own-secret", where: "url" }]);
    assert.deepEqual(request(`/x?a=${OWN.slice(0, 10)}&b=${OWN.slice(10)}`), [
      { kind: "own-secret", where: "url" },
    ]);
    const header = request("/x", { headers: { "x-data": Buffer.from(OWN).toString("base64") } });
    assert.deepEqual(header, [{ kind: "own-secret", where: "header:x-data" }]);
    const body = request("/x", { body: Buffer.from(JSON.stringify({ v: OWN })) });
    assert.deepEqual(body, [{ kind: "own-secret", where: "body" }]);
    assert.deepEqual(request("/x?q=ordinary"), []);
  });

  it("never counts a placeholder as a secret", () => {
    const found = request("/v1/messages", {
      headers: { "x-api-key": "sk-ant-api03-placeholder-held-by-bot-bottle-0000000000" },
    });
    assert.deepEqual(found, []);
  });
});

describe("bodies", () => {
  it("decodes gzip and brotli bodies, refuses unknown encodings and bombs", () => {
    const secret = Buffer.from("token=ghp_FAKEfakeFAKEfake0123456789abcdefAB");
    for (const [encoding, body] of [
      ["gzip", zlib.gzipSync(secret)],
      ["br", zlib.brotliCompressSync(secret)],
      ["deflate", zlib.deflateSync(secret)],
    ] as const) {
      const found = request("/x", { headers: { "content-encoding": encoding }, body });
      assert.deepEqual(found, [{ kind: "github-token", where: "body" }], encoding);
    }
    assert.deepEqual(request("/x", { headers: { "content-encoding": "zstd-x" }, body: secret }), [
      { kind: "undecodable-body", where: "body" },
    ]);
    const bomb = zlib.gzipSync(Buffer.alloc(10 * 1024 * 1024));
    assert.deepEqual(request("/x", { headers: { "content-encoding": "gzip" }, body: bomb }), [
      { kind: "undecodable-body", where: "body" },
    ]);
  });

  it("lets ordinary JSON, forms and images through", () => {
    const json = Buffer.from(
      JSON.stringify({ name: "Jane", id: "550e8400-e29b-41d4-a716-446655440000" }),
    );
    assert.deepEqual(
      request("/users", { headers: { "content-type": "application/json" }, body: json }),
      [],
    );
    assert.deepEqual(request("/search", { body: Buffer.from("q=golang+http+proxy&page=2") }), []);
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk", "utf8");
    assert.deepEqual(request("/upload", { body: png }), []);
  });
});

describe("names and paths that carry data", () => {
  it("refuses data in host labels and leaves ordinary names alone", () => {
    for (const host of [
      "jbswy3dpehpk3pxp.exfil.evil.test",
      "706f7374677265733a2f2f75736572.x.evil.test",
      "a1b2c3d4.e5f6a7b8.c9d0e1f2.a3b4c5d6.x.evil.test",
      `${"a".repeat(50)}.evil.test`,
    ]) {
      assert.notEqual(hostExfiltration(host), null, host);
    }
    for (const host of [
      "cdnjs.cloudflare.com",
      "d1a2b3c4e5.cloudfront.net",
      "registry.npmjs.org",
      "objects.githubusercontent.com",
      "a1b2c3.cdn.example.com",
    ]) {
      assert.equal(hostExfiltration(host), null, host);
    }
  });

  it("refuses random-looking path segments, not hashes or ids", () => {
    assert.ok(randomPathSegment("/api/x7Kp2mQ9vR4sL8nW1bY6cT3fA0jH5dE/status"));
    assert.ok(!randomPathSegment("/repos/o/r/commit/4b825dc642cb6eb9a060e54bf8d69288fbee4904"));
    assert.ok(!randomPathSegment("/resources/550e8400-e29b-41d4-a716-446655440000/details"));
    assert.ok(!randomPathSegment("/ajax/libs/lodash.js/4.17.21/lodash.min.js"));
  });
});

describe("WebSocket messages", () => {
  it("finds a secret in one message, or split across two", () => {
    const scanner = inspector.newWebSocketScanner();
    assert.deepEqual(scanner.frame("text", Buffer.from("hello")), []);
    assert.deepEqual(scanner.frame("text", Buffer.from(OWN.slice(0, 9))), []);
    assert.deepEqual(scanner.frame("text", Buffer.from(OWN.slice(9))), [
      { kind: "own-secret", where: "websocket" },
    ]);
    const other = inspector.newWebSocketScanner();
    assert.deepEqual(other.frame("binary", Buffer.from("AKIAFAKEFAKEFAKE1234")), [
      { kind: "aws-access-key-id", where: "websocket" },
    ]);
  });
});

describe("run finding", () => {
  // The regular expressions decodeLayers used before it looked for runs with a loop, and decoded
  // one level: every reading they found must still be read (inside one at least as long).
  const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
  const HEX_RUN = /(?:[0-9a-fA-F]{2}[:\- ]?){10,}/g;
  function printable(bytes: Buffer): string[] {
    return bytes.toString("latin1").match(/[\x20-\x7e]{10,}/g) ?? [];
  }
  function reference(text: string): string[] {
    const layers = new Set([text]);
    for (const match of text.matchAll(BASE64_RUN)) {
      const run = match[0];
      if (!/[A-Z]/.test(run) && !/[0-9+/=]/.test(run)) continue;
      for (const variant of [run, run.slice(1), run.slice(2), run.slice(3)]) {
        const clean = variant.replace(/[^A-Za-z0-9+/_-]/g, "");
        for (const s of printable(Buffer.from(clean, /[_-]/.test(clean) ? "base64url" : "base64")))
          layers.add(s);
      }
    }
    for (const match of text.matchAll(HEX_RUN)) {
      const hex = match[0].replace(/[:\- ]/g, "");
      for (const start of [0, 1]) {
        const even = hex.slice(start, start + ((hex.length - start) & ~1));
        for (const s of printable(Buffer.from(even, "hex"))) layers.add(s);
      }
    }
    return [...layers].sort();
  }

  it("finds all the regular expressions found, on text made to be full of near misses", () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = [
      Buffer.from("the token is ghp_FAKE0123").toString("base64"),
      Buffer.from("hidden: sk-ant-api03-FAKE").toString("hex"),
      "de:ad:be:ef:ca:fe:ba:be:00:11:22:33",
      "computeSomethingLonger",
      "abcdefghijklmnopq==",
      "aGVsbG8gd29ybGQgaGVsbG8=",
      " ",
      "\n",
      "-",
      "=",
      "x",
      "face bead",
      "0123456789",
    ];
    for (let round = 0; round < 300; round += 1) {
      const text = Array.from({ length: 1 + random(12) }, () => pieces[random(pieces.length)]).join(
        random(2) === 0 ? "" : " ",
      );
      const ours = decodeLayers(text);
      for (const layer of reference(text)) {
        assert.ok(
          ours.some((reading) => reading.includes(layer)),
          JSON.stringify({ text, layer }),
        );
      }
    }
  });
});

describe("run finding by skipping", () => {
  let seed = 11;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  /** Text of short and long runs, separators, padding and a non-ASCII letter. */
  function text(alphabet: string, length: number): string {
    return Array.from({ length }, () => alphabet.charAt(random(alphabet.length))).join("");
  }

  it("finds the maximal runs a regular expression finds, for any minimum", () => {
    const member = charClass("aB3+/");
    for (let round = 0; round < 2000; round += 1) {
      const sample = text("aB3+/aB3+/ =\né", random(120));
      for (const min of [1, 2, 5, 16]) {
        const expected = [...sample.matchAll(new RegExp(`[aB3+/]{${min},}`, "g"))].map((m) => [
          m.index,
          m.index + m[0].length,
        ]);
        assert.deepEqual([...classRuns(sample, member, min)], expected, JSON.stringify(sample));
      }
    }
  });

  it("finds AWS secrets where the regular expression it replaced did", () => {
    const before = /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g;
    const pattern = SECRET_PATTERNS.find((p) => p.kind === "aws-secret-access-key");
    assert.ok(pattern !== undefined);
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY123";
    for (let round = 0; round < 2000; round += 1) {
      const pieces = [secret, secret.slice(0, 20), "=", " ", "x", "_", "A1/+", "\n"];
      const sample = Array.from({ length: random(8) }, () => pieces[random(pieces.length)]).join(
        "",
      );
      const expected = [...sample.matchAll(before)].some(
        (m) => /[A-Z]/.test(m[0]) && /[a-z]/.test(m[0]) && /[0-9]/.test(m[0]) && /[/+]/.test(m[0]),
      );
      assert.equal(pattern.find(sample), expected, JSON.stringify(sample));
    }
  });
});

describe("the background scanner", () => {
  it("scans in a worker thread with the latest options, and refuses once closed", async () => {
    const scanner = new BackgroundScanner({ ownSecrets: [] });
    try {
      assert.deepEqual(await scanner.scan(`x ${OWN} y`, "path a"), []);
      scanner.setOptions({ ownSecrets: [OWN] });
      const [own, token, clean] = await Promise.all([
        scanner.scan(`x ${OWN} y`, "path a"),
        scanner.scan("ghp_FAKEfakeFAKEfake0123456789abcdefAB", "commit c"),
        scanner.scan("nothing here", "path b"),
      ]);
      assert.deepEqual(own, [{ kind: "own-secret", where: "path a" }]);
      assert.deepEqual(token, [{ kind: "github-token", where: "commit c" }]);
      assert.deepEqual(clean, []);
    } finally {
      await scanner.close();
    }
    await assert.rejects(scanner.scan("x", "path a"), ScannerStopped);
  });
});
