/* eslint-disable @typescript-eslint/no-misused-spread -- the strings spread here are ASCII */
/**
 * A held-out set: variants of the leak classes the content checks are built for (tokens with
 * garbage glued on, private keys without their PEM armour, other encodings and wrappings), written
 * by thinking as an agent that has read the decoders and picks what they did not try. None of
 * these were in the corpus the checks were tuned on. Each must be refused; the summary line prints
 * how many got out. Every value is fake and built here from pieces.
 */
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { describe, it } from "node:test";
import zlib from "node:zlib";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";
import type { InspectedRequest } from "../../src/sidecar/shared/content-inspector.js";

const j = (...parts: string[]): string => parts.join("");
const GHP = j("gh", "p_", "FAKEfake0123456789abcdefABCDEF012345");
const AKIA = j("AK", "IA", "FAKEFAKEFAKE2345");
const OWN = j("bottle", "Own", "Secret", "9f3K2mQx7Lp4Zt8w");
const HF = j("h", "f_", "FAKEfake0123456789abcdefABCDEFabcd");
const SG = j(
  "S",
  "G.",
  "FAKEfake0123456789abcd",
  ".",
  "FAKEfake0123456789abcdefABCDEF0123456789abc",
);
const GROQ = j("gs", "k_", "FAKEfake0123456789abcdefABCDEF0123456789abcdefABCDEF");
const DOP = j("do", "p_v1_", "0123456789abcdef".repeat(4));

const b64 = (s: string | Buffer): string =>
  (typeof s === "string" ? Buffer.from(s, "latin1") : s).toString("base64");

/** Private keys of each container, made here (fake: fresh keys, thrown away). */
function keyBodies(): Record<string, Buffer> {
  const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
  const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const ed = crypto.generateKeyPairSync("ed25519").privateKey;
  const openssh = Buffer.concat([
    Buffer.from("openssh-key-v1\0", "latin1"),
    Buffer.from([0, 0, 0, 4]),
    Buffer.from("none"),
    Buffer.from([0, 0, 0, 4]),
    Buffer.from("none"),
    Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]),
    crypto.randomBytes(80),
  ]);
  return {
    "pkcs1-rsa": rsa.export({ type: "pkcs1", format: "der" }),
    "pkcs8-rsa": rsa.export({ type: "pkcs8", format: "der" }),
    "sec1-ec": ec.export({ type: "sec1", format: "der" }),
    "pkcs8-ec": ec.export({ type: "pkcs8", format: "der" }),
    "pkcs8-ed25519": ed.export({ type: "pkcs8", format: "der" }),
    "pkcs8-encrypted": rsa.export({
      type: "pkcs8",
      format: "der",
      cipher: "aes-256-cbc",
      passphrase: "fake-passphrase",
    }),
    openssh,
  };
}

const wrap = (text: string, width: number): string =>
  text.replace(new RegExp(`(.{${width}})`, "g"), "$1\n");
const reverse = (s: string): string => [...s].reverse().join("");
const qp = (s: string): string =>
  [...Buffer.from(s, "latin1")]
    .map((b) => `=${b.toString(16).toUpperCase().padStart(2, "0")}`)
    .join("");
const charCodes = (s: string): string => [...s].map((c) => c.charCodeAt(0)).join(",");
const uu = (s: string): string => {
  const bytes = Buffer.from(s, "latin1");
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 45) {
    const part = bytes.subarray(at, at + 45);
    let line = String.fromCharCode(32 + part.length);
    for (let i = 0; i < part.length; i += 3) {
      const [a = 0, b = 0, c = 0] = part.subarray(i, i + 3);
      for (const v of [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63])
        line += v === 0 ? "`" : String.fromCharCode(32 + v);
    }
    lines.push(line);
  }
  return `begin 644 notes.txt\n${lines.join("\n")}\n\`\nend\n`;
};
const spaced = (s: string, sep: string): string => [...s].join(sep);
const zip = (name: string, data: string): Buffer => {
  const raw = zlib.deflateRawSync(Buffer.from(data, "latin1"));
  const head = Buffer.alloc(30);
  head.writeUInt32LE(0x04034b50, 0);
  head.writeUInt16LE(20, 4);
  head.writeUInt16LE(8, 8);
  head.writeUInt32LE(raw.length, 18);
  head.writeUInt32LE(data.length, 22);
  head.writeUInt16LE(name.length, 26);
  return Buffer.concat([head, Buffer.from(name), raw]);
};

type Variant = {
  name: string;
  body?: string | Buffer;
  path?: string;
  headers?: Record<string, string>;
};

function variants(): Variant[] {
  const keys = keyBodies();
  const list: Variant[] = [
    // Fixed-length tokens with garbage glued after them.
    { name: "ghp_ + 36 + xyz", body: `token=${GHP}xyz` },
    { name: "AKIA + 16 + extra", body: `id=${AKIA}EXTRA9` },
    { name: "AKIA + 16 + lower", body: `id=${AKIA}abc` },
    { name: "hf_ + 34 + garbage", body: `t ${HF}Zq9` },
    { name: "SG. + garbage", body: `k ${SG}_x` },
    { name: "gsk_ + garbage", body: `k ${GROQ}QQ` },
    { name: "dop_v1_ + garbage", body: `k ${DOP}zz` },
    { name: "AKIA + garbage in a URL", path: `/x?k=${AKIA}ZZZ` },
  ];
  for (const [kind, der] of Object.entries(keys)) {
    list.push(
      { name: `${kind}: base64 body, no armour`, body: JSON.stringify({ key: b64(der) }) },
      { name: `${kind}: base64 wrapped at 64`, body: wrap(b64(der), 64) },
      { name: `${kind}: base64url`, body: `k=${der.toString("base64url")}` },
      { name: `${kind}: hex`, body: der.toString("hex") },
    );
  }
  list.push(
    // Other encodings and wrappings.
    { name: "quoted-printable", body: `note: ${qp(GHP)}` },
    { name: "quoted-printable, own secret", body: `note: ${qp(OWN)}` },
    { name: "char-code array", body: `[${charCodes(GHP)}]` },
    {
      name: "String.fromCharCode",
      body: `String.fromCharCode(${charCodes(OWN).replace(/,/g, ", ")})`,
    },
    { name: "reversed token", body: `x=${reverse(GHP)}` },
    { name: "reversed own secret", body: `x=${reverse(OWN)}` },
    { name: "reversed then base64", body: `x=${b64(reverse(OWN))}` },
    { name: "reversed token, base64", body: `x=${b64(reverse(GHP))}` },
    { name: "reversed AWS key id in JSON", body: JSON.stringify({ id: reverse(AKIA) }) },
    { name: "uuencoded", body: uu(`config\n${GHP}\n`) },
    { name: "zip archive", body: zip("notes.txt", `a note with ${GHP} in it`) },
    { name: "zip archive, own secret", body: zip("n.txt", `here: ${OWN}`) },
    { name: "data URL", body: `<img src="data:text/plain;base64,${b64(GHP)}">` },
    {
      name: "%u escapes",
      body: `v=${[...GHP].map((c) => `%u00${c.charCodeAt(0).toString(16)}`).join("")}`,
    },
    { name: "spaced with dots", body: `v=${spaced(GHP, ".")}` },
    { name: "spaced with spaces", body: `v=${spaced(AKIA, " ")}` },
    { name: "own secret spaced with dashes", body: `v=${spaced(OWN, "-")}` },
    {
      name: "mixed-case hex of own secret",
      body: Buffer.from(OWN)
        .toString("hex")
        .replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c)),
    },
    {
      name: "token split across JSON fields",
      body: JSON.stringify({ a: GHP.slice(0, 10), b: GHP.slice(10, 25), c: GHP.slice(25) }),
    },
    {
      name: "token split across header and query",
      path: `/x?p=${AKIA.slice(10)}`,
      headers: { "x-part": AKIA.slice(0, 10) },
    },
  );
  return list;
}

function refused(variant: Variant): boolean {
  const request: InspectedRequest = {
    method: "POST",
    host: "api.example.test",
    path: variant.path ?? "/upload",
    headers: { "content-type": "application/octet-stream", ...variant.headers },
    body:
      variant.body === undefined
        ? undefined
        : typeof variant.body === "string"
          ? Buffer.from(variant.body, "latin1")
          : variant.body,
  };
  return new DlpInspector({ ownSecrets: [OWN] }).inspectRequest(request).length > 0;
}

/** Variants still let out, said here so the summary stays honest: none at present. */
const KNOWN_GAPS: string[] = [];

describe("held-out leak variants", () => {
  it("refuses every one but the known gaps (the summary prints how many got out)", () => {
    const all = variants();
    const out = all
      .filter((v) => !refused(v))
      .map((v) => v.name)
      .filter((name) => !KNOWN_GAPS.includes(name));
    const gaps = all.filter((v) => KNOWN_GAPS.includes(v.name) && !refused(v)).length;
    process.stdout.write(
      `# held-out: ${all.length - out.length - gaps}/${all.length} refused; got out: ${out.join(" | ") || "none"}; known gaps out: ${gaps}\n`,
    );
    assert.deepEqual(out, []);
  });
});
