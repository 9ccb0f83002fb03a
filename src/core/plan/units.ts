/** Parses sizes such as `512m`, `4g`, `1.5G` or `1048576` (bytes) into bytes. */
export function parseSize(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)([kmg]?)$/i.exec(text.trim());
  if (match === null) throw new Error(`not a size: ${text}`);
  const unit = (match[2] ?? "").toLowerCase();
  const factor = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Math.round(Number(match[1]) * factor);
}

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses durations such as `2s`, `30m`, `1h`, `1h30m` or `7d` into milliseconds. Throws on
 * anything else (a bare number has no unit and is refused: `--for 10` could mean anything).
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (!/^(\d+[smhd])+$/.test(trimmed)) throw new Error(`not a duration: ${text}`);
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhd])/g)) {
    total += Number(amount) * (DURATION_UNITS[unit ?? "s"] ?? 0);
  }
  if (total <= 0) throw new Error(`not a duration: ${text}`);
  return total;
}
