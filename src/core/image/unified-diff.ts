/**
 * PURE: a unified diff of two texts (line based, longest common subsequence), as `diff -u`
 * prints it, for showing the operator exactly what an image change adds to the recipe.
 */

type Op = { kind: " " | "-" | "+"; text: string };

function lines(text: string): string[] {
  if (text === "") return [];
  const split = text.split("\n");
  if (split.at(-1) === "") split.pop();
  return split;
}

/** Edit script from a to b by LCS (recipes are small: at most a few thousand lines). */
function editScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const table: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    const row = table[i] ?? [];
    const below = table[i + 1] ?? [];
    for (let j = m - 1; j >= 0; j--) {
      row[j] = a[i] === b[j] ? (below[j + 1] ?? 0) + 1 : Math.max(below[j] ?? 0, row[j + 1] ?? 0);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: " ", text: a[i] ?? "" });
      i++;
      j++;
    } else if (i < n && (j >= m || (table[i + 1]?.[j] ?? 0) >= (table[i]?.[j + 1] ?? 0))) {
      // Removals before additions, as diff -u prints them.
      ops.push({ kind: "-", text: a[i] ?? "" });
      i++;
    } else {
      ops.push({ kind: "+", text: b[j] ?? "" });
      j++;
    }
  }
  return ops;
}

function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}

/**
 * The unified diff of `before` and `after` with `context` lines around each change, under
 * `--- fromName` / `+++ toName` headers; empty when the texts have the same lines.
 */
export function unifiedDiff(
  before: string,
  after: string,
  fromName: string,
  toName: string,
  context = 3,
): string {
  const ops = editScript(lines(before), lines(after));
  const changed = ops.map((op, index) => (op.kind === " " ? -1 : index)).filter((i) => i >= 0);
  if (changed.length === 0) return "";
  // Group changes whose context windows touch into hunks.
  const hunks: { from: number; to: number }[] = [];
  for (const index of changed) {
    const from = Math.max(0, index - context);
    const to = Math.min(ops.length - 1, index + context);
    const last = hunks.at(-1);
    if (last !== undefined && from <= last.to + 1) last.to = to;
    else hunks.push({ from, to });
  }
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  let oldLine = 1;
  let newLine = 1;
  let cursor = 0;
  for (const hunk of hunks) {
    for (; cursor < hunk.from; cursor++) {
      const kind = ops[cursor]?.kind;
      if (kind !== "+") oldLine++;
      if (kind !== "-") newLine++;
    }
    const body: string[] = [];
    let oldCount = 0;
    let newCount = 0;
    for (; cursor <= hunk.to; cursor++) {
      const op = ops[cursor];
      if (op === undefined) break;
      body.push(`${op.kind}${op.text}`);
      if (op.kind !== "+") oldCount++;
      if (op.kind !== "-") newCount++;
    }
    out.push(`@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@`, ...body);
    oldLine += oldCount;
    newLine += newCount;
  }
  return `${out.join("\n")}\n`;
}
