/**
 * The soak test's load, as a Node script run inside the agent (plain JS, node: modules only):
 * workers send well-formed and malformed requests to the egress gate (127.0.0.1:3128) and the
 * credential proxy (3129) over raw sockets for `seconds`, while one worker fetches and pushes
 * through the git gate with real git. Every exchange ends as an HTTP status, a close or a
 * timeout; it prints one JSON line: per kind, what came back and how often.
 */

export interface SoakOptions {
  seconds: number;
  workers: number;
  /** The branch prefix the bottle may push to (`bottle/<identity>`). */
  branchPrefix: string;
  /** A clone of the gated repository inside the agent. */
  clone: string;
}

export interface SoakResult {
  /** kind -> outcome (status code, "closed", "timeout") -> count */
  outcomes: Record<string, Record<string, number>>;
  /** kind -> count of outcomes that were not the expected one */
  unexpected: Record<string, number>;
  total: number;
}

export function soakScript(options: SoakOptions): string {
  return `
const net = require("net");
const { execFile } = require("child_process");
const deadline = Date.now() + ${options.seconds * 1000};
const outcomes = {};
const unexpected = {};
let total = 0;
function record(kind, outcome, ok) {
  total++;
  const o = (outcomes[kind] = outcomes[kind] || {});
  o[outcome] = (o[outcome] || 0) + 1;
  if (!ok) unexpected[kind] = (unexpected[kind] || 0) + 1;
}
// One exchange on a fresh connection: resolves with the status code, "closed" or "timeout".
function exchange(port, payload, { abortAfterWrite = false, timeoutMs = 30000 } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    let data = "";
    let done = false;
    const finish = (r) => { if (done) return; done = true; clearTimeout(t); s.destroy(); resolve(r); };
    const t = setTimeout(() => finish("timeout"), timeoutMs);
    s.on("connect", () => {
      s.write(payload);
      if (abortAfterWrite) setTimeout(() => finish("aborted"), 20);
    });
    s.on("data", (d) => {
      data += d.toString("latin1");
      const m = /^HTTP\\/1\\.[01] (\\d{3})/.exec(data);
      if (m) finish(m[1]);
    });
    s.on("error", () => finish("closed"));
    s.on("close", () => finish("closed"));
  });
}
const FAKE_TOKEN = "ghp_" + "FAKEsoakTOKENforBotBottleTests01234567".slice(0, 36);
const body = "x".repeat(64 * 1024);
const kinds = [
  ["egress-get", 3128, "GET http://allowed.test/soak HTTP/1.1\\r\\nHost: allowed.test\\r\\nconnection: close\\r\\n\\r\\n", ["200"]],
  ["egress-denied", 3128, "GET http://denied.test/ HTTP/1.1\\r\\nHost: denied.test\\r\\nconnection: close\\r\\n\\r\\n", ["403"]],
  ["egress-post", 3128, "POST http://allowed.test/up HTTP/1.1\\r\\nHost: allowed.test\\r\\ncontent-length: " + body.length + "\\r\\nconnection: close\\r\\n\\r\\n" + body, ["200"]],
  ["egress-secret", 3128, "POST http://allowed.test/up HTTP/1.1\\r\\nHost: allowed.test\\r\\ncontent-length: " + (FAKE_TOKEN.length + 6) + "\\r\\nconnection: close\\r\\n\\r\\ntoken=" + FAKE_TOKEN, ["403"]],
  ["egress-garbage", 3128, "\\x00\\x01\\x02GARBAGE \\xff\\xfe\\r\\n\\r\\n", ["400", "closed"]],
  ["egress-huge-head", 3128, "GET http://allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\r\\nx-big: " + "a".repeat(40000) + "\\r\\n\\r\\n", ["431", "400", "closed"]],
  ["egress-bad-connect", 3128, "CONNECT nohost HTTP/1.1\\r\\nHost: nohost\\r\\n\\r\\n", ["400", "403"]],
  ["egress-smuggle", 3128, "POST http://allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\r\\ncontent-length: 4\\r\\ntransfer-encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n", ["400", "closed"]],
  ["cred-get", 3129, "GET /api/v1/soak HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nconnection: close\\r\\n\\r\\n", ["200"]],
  ["cred-escape", 3129, "GET /api/../escaped HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nconnection: close\\r\\n\\r\\n", ["400"]],
  ["cred-unknown", 3129, "GET /nope/x HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nconnection: close\\r\\n\\r\\n", ["404"]],
  ["cred-garbage", 3129, "\\x16\\x03\\x01\\x00\\xa5\\x01\\x00\\x00\\xa1\\x03\\x03\\r\\n\\r\\n", ["400", "closed"]],
  ["git-garbage", 3130, "POST /app/git-receive-pack HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\ncontent-type: application/x-git-receive-pack-request\\r\\ncontent-length: 12\\r\\nconnection: close\\r\\n\\r\\n0000PACKjunk", ["200", "400", "403", "500"]],
];
async function worker(n) {
  let i = n;
  while (Date.now() < deadline) {
    const [kind, port, payload, expected] = kinds[i++ % kinds.length];
    // Now and then a request is cut off half-way: the gate must let it go.
    if (i % 17 === 0) {
      const r = await exchange(port, payload.slice(0, Math.max(1, payload.length >> 1)), { abortAfterWrite: true });
      record(kind + "-aborted", r, r !== "timeout");
      continue;
    }
    const r = await exchange(port, payload);
    record(kind, r, expected.includes(r));
  }
}
function git(args, cwd) {
  return new Promise((resolve) => execFile("git", args, { cwd, timeout: 60000 }, (e) => resolve(e ? "fail" : "ok")));
}
async function gitWorker() {
  const cwd = ${JSON.stringify(options.clone)};
  let n = 0;
  while (Date.now() < deadline) {
    n++;
    await git(["-c", "user.name=a", "-c", "user.email=a@b.test", "commit", "-q", "--allow-empty", "-m", "soak " + n], cwd);
    const pushed = await git(["push", "-q", "origin", "HEAD:refs/heads/${options.branchPrefix}/soak-" + (n % 3)], cwd);
    record("git-push", pushed, pushed === "ok");
    const listed = await git(["ls-remote", "origin"], cwd);
    record("git-ls-remote", listed, listed === "ok");
    if (n % 4 === 0) {
      const refused = await git(["push", "-q", "origin", "HEAD:refs/heads/main"], cwd);
      record("git-push-protected", refused, refused === "fail");
    }
  }
}
Promise.all([gitWorker(), ...Array.from({ length: ${options.workers} }, (_, n) => worker(n))]).then(() => {
  console.log(JSON.stringify({ outcomes, unexpected, total }));
});
`;
}
