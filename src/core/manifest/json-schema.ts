import { z } from "zod";
import { manifestSchema } from "./schema.js";

/** The manifest's JSON Schema (input form: keys with defaults are optional), for editors. */
export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, { io: "input", unrepresentable: "any" });
  return { ...schema, title: "bot-bottle manifest" };
}

export function manifestJsonSchemaText(): string {
  return `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
}
