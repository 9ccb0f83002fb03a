/** Parses sizes such as `512m`, `4g`, `1.5G` or `1048576` (bytes) into bytes. */
export function parseSize(text: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)([kmg]?)$/i.exec(text.trim());
  if (match === null) throw new Error(`not a size: ${text}`);
  const unit = (match[2] ?? "").toLowerCase();
  const factor = unit === "k" ? 1024 : unit === "m" ? 1024 ** 2 : unit === "g" ? 1024 ** 3 : 1;
  return Math.round(Number(match[1]) * factor);
}
