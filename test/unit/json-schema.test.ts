import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../src/core/host/package-root.js";
import { manifestJsonSchema, manifestJsonSchemaText } from "../../src/core/manifest/json-schema.js";

describe("JSON Schema", () => {
  it("committed schema/bottle.schema.json matches the zod schema (run `npm run schema` after changing it)", () => {
    const committed = fs.readFileSync(
      path.join(packageRoot(), "schema", "bottle.schema.json"),
      "utf8",
    );
    assert.equal(committed, manifestJsonSchemaText());
  });

  it("describes every property", () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== "object") return;
      const obj = node as Record<string, unknown>;
      const props = obj["properties"] as Record<string, Record<string, unknown>> | undefined;
      for (const [key, child] of Object.entries(props ?? {})) {
        const described =
          typeof child["description"] === "string" ||
          (Array.isArray(child["anyOf"]) && typeof child["description"] === "string");
        if (!described) undocumented.push(`${where}.${key}`);
      }
      for (const [key, value] of Object.entries(obj)) walk(value, `${where}.${key}`);
    };
    walk(manifestJsonSchema(), "$");
    assert.deepEqual(undocumented, []);
  });
});
