/**
 * Walks the manifest schema to find which keys an object accepts at a given path, so an unknown
 * key can be answered with "did you mean". Reads zod's definition objects; only the node kinds
 * the manifest uses are handled.
 */
import type { z } from "zod";

type Path = readonly PropertyKey[];

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  innerType?: z.ZodType;
  options?: readonly z.ZodType[];
  in?: z.ZodType;
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Removes wrappers (optional, default, pipe) that do not change the value's shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    const next = def.innerType ?? (def.type === "pipe" ? def.in : undefined);
    if (next === undefined) return current;
    current = next;
  }
}

/** The object schemas a value at `path` may match (several when a union allows several). */
function objectsAt(schema: z.ZodType, path: Path): z.ZodType[] {
  const node = unwrap(schema);
  const def = defOf(node);
  if (def.type === "union") return (def.options ?? []).flatMap((option) => objectsAt(option, path));
  if (path.length === 0) return def.type === "object" ? [node] : [];
  const [head, ...rest] = path;
  if (def.type === "object" && typeof head === "string") {
    const child = def.shape?.[head];
    return child === undefined ? [] : objectsAt(child, rest);
  }
  if (def.type === "record" && def.valueType !== undefined) return objectsAt(def.valueType, rest);
  if (def.type === "array" && def.element !== undefined) return objectsAt(def.element, rest);
  return [];
}

export function knownKeysAt(schema: z.ZodType, path: Path): string[] {
  const keys = objectsAt(schema, path).flatMap((object) => Object.keys(defOf(object).shape ?? {}));
  return [...new Set(keys)];
}
