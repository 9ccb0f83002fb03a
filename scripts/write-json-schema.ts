/** Regenerates schema/bottle.schema.json from the zod schema (`npm run schema`). */
import fs from "node:fs";
import path from "node:path";
import { manifestJsonSchemaText } from "../src/core/manifest/json-schema.js";
import { packageRoot } from "../src/core/host/package-root.js";

const target = path.join(packageRoot(), "schema", "bottle.schema.json");
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, manifestJsonSchemaText());
console.log(`wrote ${target}`);
