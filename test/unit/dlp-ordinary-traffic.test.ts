// Zero false positives on ordinary developer traffic: every detector and every decoding layer
// over real files a coding agent sends and fetches (this repository's source, tests and docs,
// node_modules' package.json, READMEs, licences and JavaScript, package-lock.json, a git log with
// patches) and JSON API bodies: no finding at all. Nothing is skipped for being flagged: a
// finding here is a false positive to fix.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { PLACEHOLDER_KEY } from "../../src/core/plan/placeholders.js";
import { DlpInspector } from "../../src/sidecar/dlp/dlp-inspector.js";

const root = process.cwd();
// As the sidecar builds it: the placeholder key the bottle hands the agent is no finding.
const inspector = new DlpInspector({
  ownSecrets: ["bottle-own-secret-for-this-test-0123"],
  placeholders: [PLACEHOLDER_KEY],
});

function findings(text: Buffer | string, type = "text/plain"): string[] {
  return inspector
    .inspectRequest({
      method: "POST",
      host: "api.example.test",
      path: "/v1/upload",
      headers: { "content-type": type },
      body: typeof text === "string" ? Buffer.from(text) : text,
    })
    .map((finding) => finding.kind);
}

/** Files under `dir` whose names pass `keep`, up to `limit`, skipping dot folders. */
function files(dir: string, keep: (name: string) => boolean, limit: number): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of fs.readdirSync(at, { withFileTypes: true })) {
      if (out.length >= limit) return;
      if (entry.name.startsWith(".")) continue;
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (keep(entry.name)) out.push(full);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Files of this repository that hold fake tokens on purpose (tests, fixtures, detectors). */
const TOKEN_FILES = /test\/|fixtures|detectors\/|corpus/;

describe("ordinary developer traffic: no finding", () => {
  it("this repository's source, scripts, docs and configuration", () => {
    const paths = [
      ...files(path.join(root, "src"), (n) => n.endsWith(".ts"), 1000),
      ...files(path.join(root, "scripts"), (n) => /\.(ts|mjs|sh)$/.test(n), 200),
      ...files(path.join(root, "docs"), (n) => n.endsWith(".md"), 100),
      ...["README.md", "package.json", "tsconfig.json", "eslint.config.js", ".gitignore"].map((n) =>
        path.join(root, n),
      ),
    ].filter((p) => fs.existsSync(p) && !TOKEN_FILES.test(path.relative(root, p)));
    assert.ok(paths.length > 50, `${paths.length} files`);
    for (const file of paths) assert.deepEqual(findings(fs.readFileSync(file)), [], file);
  });

  it("package-lock.json, and node_modules' package.json, READMEs, licences and JavaScript", () => {
    const modules = path.join(root, "node_modules");
    const paths = [
      path.join(root, "package-lock.json"),
      ...files(modules, (n) => n === "package.json", 400),
      ...files(modules, (n) => /^(readme|license|changelog)/i.test(n), 300),
      ...files(modules, (n) => /\.(c?js|mjs)$/.test(n) && !n.endsWith(".min.js"), 600),
    ].filter((p) => fs.existsSync(p) && fs.statSync(p).size < 2_000_000);
    assert.ok(paths.length > 500, `${paths.length} files`);
    const flagged: string[] = [];
    for (const file of paths) {
      const found = findings(fs.readFileSync(file));
      if (found.length > 0) flagged.push(`${path.relative(root, file)}: ${found.join(", ")}`);
    }
    assert.deepEqual(flagged, []);
  });

  it("a git log with patches, as a push or a code review sends it", () => {
    const log = (() => {
      try {
        return execFileSync("git", ["log", "-p", "-n", "60", "--", "src", "docs", "README.md"], {
          cwd: root,
          maxBuffer: 64 * 1024 * 1024,
        }).toString();
      } catch {
        return ""; // not a git checkout
      }
    })();
    // Commits that add detectors or their tests name fake tokens on purpose.
    const commits = log.split(/^(?=commit [0-9a-f]{40}$)/m).filter((c) => !/detectors\//.test(c));
    for (const commit of commits) {
      assert.deepEqual(findings(commit), [], commit.slice(0, 60));
    }
  });

  it("JSON API bodies of models, registries and code hosts", () => {
    const bodies: unknown[] = [
      {
        model: "claude-sonnet-4",
        max_tokens: 4096,
        system: "You are a coding agent.\nUse the tools.",
        messages: [
          { role: "user", content: "Refactor src/index.ts and run `npm test`, then git push." },
          {
            role: "assistant",
            content: [
              { type: "text", text: "Running the tests.\n\n```\n$ npm test\n```" },
              {
                type: "tool_use",
                id: "toolu_01A09q90qw90lq917835lq9",
                name: "bash",
                input: { command: "cat package.json && ls -la src/" },
              },
            ],
          },
        ],
        metadata: { user_id: "user_2fQ1b3c4d5e6f7a8b9c0" },
      },
      {
        name: "left-pad",
        "dist-tags": { latest: "1.3.0" },
        versions: {
          "1.3.0": {
            dist: {
              shasum: "5b8a3a7765dfe8cdd0f5a7e7d5b5fbe1a3fa4e3a",
              integrity:
                "sha512-XI5MPzVNApjAyhQzphX8BkmKsKUxD4LdyK24iZeQ9Jeprf0LU6ZfTiqsXyJ8HhJTfVR9RQi0+6p3dqy2n/Nisg==",
              tarball: "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz",
            },
          },
        },
      },
      {
        sha: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391",
        node_id: "MDQ6VXNlcjE=",
        url: "https://api.github.com/repos/octo/app/git/trees/e69de29",
        commit: {
          author: { name: "Mona", email: "mona@example.com", date: "2026-12-02T09:00:00Z" },
        },
        files: [{ filename: "src/token-store.ts", patch: "+export const tokenKey = 'session';" }],
      },
      {
        id: "chatcmpl-9pQ2xYzAbCdEfGhIjKlMnOp",
        object: "chat.completion",
        created: 1733216000,
        choices: [{ index: 0, message: { role: "assistant", content: "Done." } }],
        usage: { prompt_tokens: 120, completion_tokens: 3, total_tokens: 123 },
      },
      { password: "", token: null, api_key: "${API_KEY}", secret: "<your-secret-here>" },
    ];
    for (const value of bodies) {
      assert.deepEqual(
        findings(JSON.stringify(value), "application/json"),
        [],
        JSON.stringify(value),
      );
    }
  });
});
