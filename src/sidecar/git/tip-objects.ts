/**
 * The pushed tips that are not commits, which git log does not show: annotated tags, and the tags
 * they point at in turn, each scanned whole (tagger, every header line, message); a blob a ref
 * or tag points at, scanned whole (and decoded, blob-decoding.ts). A tree a ref or tag points at
 * throws, as does an object git cannot hand out: the caller refuses the push. A tag is reached
 * only from a ref or another tag, so following the tips finds them all.
 */
import type { ContentFinding } from "../shared/content-inspector.js";
import type { ContentScanner } from "./added-content.js";
import { decodedLayers } from "./blob-decoding.js";
import type { BatchObject } from "./cat-file-batch.js";
import { CatFileBatchReader } from "./cat-file-batch.js";
import type { GitEnv } from "./git-process.js";
import { gitComplaint, runGit } from "./git-process.js";

/** Tags pointing at tags, past which the push is refused. */
const MAX_DEPTH = 16;

async function objectsOf(env: GitEnv, oids: readonly string[]): Promise<BatchObject[]> {
  const result = await runGit(["cat-file", "--batch"], {
    env,
    input: Buffer.from(oids.map((oid) => `${oid}\n`).join("")),
  });
  if (result.code !== 0) throw new Error(`git cat-file failed: ${gitComplaint(result.stderr)}`);
  const objects: BatchObject[] = [];
  const reader = new CatFileBatchReader((oid, object) => {
    if (object === null) throw new Error(`object ${oid} is missing`);
    objects.push(object);
  });
  reader.write(result.stdout);
  reader.end();
  return objects;
}

/** Scans the tag objects among `tips` and below them; the first finding, or null. */
export async function scanTipObjects(
  env: GitEnv,
  tips: readonly string[],
  scan: ContentScanner,
): Promise<ContentFinding | null> {
  let wave = [...new Set(tips)];
  for (let depth = 0; wave.length > 0; depth += 1) {
    if (depth > MAX_DEPTH) throw new Error(`tags point at tags more than ${MAX_DEPTH} deep`);
    const next: string[] = [];
    for (const object of await objectsOf(env, wave)) {
      if (object.type === "tree") {
        throw new Error(`a pushed ref or tag points at a tree (${object.oid}), not a commit`);
      }
      if (object.type === "blob") {
        for (const text of [object.data.toString("latin1"), ...decodedLayers(object.data)]) {
          const found = (await scan(text, `blob ${object.oid}`))[0];
          if (found !== undefined) return found;
        }
        continue;
      }
      if (object.type !== "tag") continue;
      const text = object.data.toString("latin1");
      const finding = (await scan(text, `tag ${object.oid}`))[0];
      if (finding !== undefined) return finding;
      const target = /^object ([0-9a-f]{40,64})$/m.exec(text)?.[1];
      if (target !== undefined) next.push(target);
    }
    wave = next;
  }
  return null;
}
