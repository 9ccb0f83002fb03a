// The egress attack corpus (../shared/egress-corpus, beside the repository) replayed through the
// real proxy with the real content checks, as `npm run test:corpus` does. Every benign case must
// be allowed and every malicious one blocked. Skipped, saying so, where the corpus is not present.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/core/host/package-root.js";
import { runCorpus } from "../../scripts/corpus/run-corpus.js";

const corpus = path.join(packageRoot(), "..", "shared", "egress-corpus");
const present = fs.existsSync(path.join(corpus, "cases"));

describe("egress attack corpus", () => {
  it(
    "allows every benign case and blocks every malicious one",
    { skip: present ? false : `no corpus at ${corpus}`, timeout: 120_000 },
    async () => {
      const results = await runCorpus(corpus);
      assert.ok(results.length > 0);
      const misses = results.filter((r) => r.verdict !== r.expected);
      assert.deepEqual(
        misses.map((m) => `${m.id}: expected ${m.expected}, got ${m.verdict}`),
        [],
      );
    },
  );
});
