/**
 * The egress gate's content checks (ContentInspector): built-in secret detectors and the bottle's
 * own secrets, over every reading of the URL, the headers, the body and WebSocket messages
 * (decode-layers.ts), plus the shapes of data hidden in host names and paths (exfil-shapes.ts).
 *
 * - URL: the path and query as sent, every query value alone, and all query values joined (a
 *   secret split across parameters), and a random-looking path segment.
 * - Headers: each value, and all values joined. Placeholders the bottle itself hands the agent
 *   are removed first: they are not secrets.
 * - Body: decoded from its Content-Encoding (or refused), read as text, and for JSON also its
 *   string values joined.
 * - WebSocket: each message, and the tail of the previous messages joined to it.
 * Findings name a kind and where; never the value.
 */
import type {
  ContentFinding,
  ContentInspector,
  InspectedRequest,
  WebSocketInspector,
} from "../shared/content-inspector.js";
import { decodeBody } from "./body-decoding.js";
import { walkLayers } from "./decode-layers.js";
import { hostExfiltration, randomPathSegment } from "./exfil-shapes.js";
import { OwnSecrets } from "./own-secrets.js";
import { firstSecret } from "./secret-patterns.js";

export interface DlpOptions {
  /** Tokens the bottle's gates hold: found in any encoding, they are `own-secret`. */
  ownSecrets: readonly string[];
  /** Values the bottle gives the agent in place of secrets; never findings. */
  placeholders?: readonly string[];
  /** Largest decoded body read. */
  maxBodyBytes?: number;
}

const CARRY = 256;

function jsonStrings(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const item of value) jsonStrings(item, out);
  else if (typeof value === "object" && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      jsonStrings(item, out);
    }
  }
}

export class DlpInspector implements ContentInspector {
  private readonly own: OwnSecrets;
  private readonly placeholders: readonly string[];
  private readonly maxBodyBytes: number;

  constructor(options: DlpOptions) {
    this.own = new OwnSecrets(options.ownSecrets);
    this.placeholders = (options.placeholders ?? []).filter((p) => p.length > 0);
    this.maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  }

  private withoutPlaceholders(text: string): string {
    let out = text;
    for (const placeholder of this.placeholders) out = out.split(placeholder).join("");
    return out;
  }

  /** The first finding in `text` (any reading of it), or null. */
  private kindIn(text: string): string | null {
    if (text.length === 0) return null;
    const clean = this.withoutPlaceholders(text);
    let found: string | null = null;
    const result = walkLayers(clean, (layer) => {
      if (!this.own.empty && this.own.foundIn(layer)) found = "own-secret";
      else found = firstSecret(layer);
      return found !== null;
    });
    // Checks that could not finish are a finding: what they did not read may hold the secret.
    return result === "exhausted" ? "dlp:budget" : found;
  }

  scanText(text: string, where: string): ContentFinding[] {
    const kind = this.kindIn(text);
    return kind === null ? [] : [{ kind, where }];
  }

  inspectHost(host: string): ContentFinding[] {
    const shape = hostExfiltration(host.toLowerCase());
    if (shape !== null) return [{ kind: "hostname-exfiltration", where: "host" }];
    const found = this.scanText(host, "host");
    if (found.length > 0) return found;
    // The labels joined: a secret (or a piece of the bottle's own) cut across labels.
    const labels = host.split(".");
    return this.scanText(labels.slice(0, -1).join(""), "host");
  }

  private inspectUrl(path: string): ContentFinding[] {
    const found = this.scanText(path, "url");
    if (found.length > 0) return found;
    const query = path.indexOf("?") === -1 ? "" : path.slice(path.indexOf("?") + 1);
    if (query !== "") {
      const values = query.split("&").map((pair) => pair.slice(pair.indexOf("=") + 1));
      const joined = this.scanText(values.join(""), "url");
      if (joined.length > 0) return joined;
    }
    if (randomPathSegment(path)) return [{ kind: "high-entropy-path", where: "url" }];
    return [];
  }

  private inspectHeaders(headers: InspectedRequest["headers"]): ContentFinding[] {
    const values: string[] = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      const text = Array.isArray(value) ? value.join(", ") : value;
      const found = this.scanText(text, `header:${name}`);
      if (found.length > 0) return found;
      values.push(text);
    }
    return this.scanText(values.join(""), "headers");
  }

  private inspectBody(request: InspectedRequest): ContentFinding[] {
    const raw = request.body;
    if (raw === undefined || raw.length === 0) return [];
    const encoding = request.headers["content-encoding"];
    const decoded = decodeBody(
      raw,
      Array.isArray(encoding) ? encoding.join(",") : encoding,
      this.maxBodyBytes,
    );
    if (!decoded.ok) return [{ kind: decoded.problem, where: "body" }];
    // UTF-8 text is read as such (its lookalike letters normalised); anything else byte for byte.
    const utf8 = decoded.body.toString("utf8");
    const text = utf8.includes("\ufffd") ? decoded.body.toString("latin1") : utf8;
    const found = this.scanText(text, "body");
    if (found.length > 0) return found;
    const type = request.headers["content-type"] ?? "";
    if (type.includes("json")) {
      try {
        const strings: string[] = [];
        jsonStrings(JSON.parse(decoded.body.toString("utf8")), strings);
        return this.scanText(strings.join("\n"), "body");
      } catch {
        return [];
      }
    }
    return [];
  }

  inspectRequest(request: InspectedRequest): ContentFinding[] {
    for (const check of [
      () => this.inspectUrl(request.path),
      () => this.inspectHeaders(request.headers),
      () => this.inspectBody(request),
    ]) {
      const found = check();
      if (found.length > 0) return found;
    }
    return [];
  }

  newWebSocketScanner(): WebSocketInspector {
    let carried = "";
    return {
      frame: (_opcode, payload) => {
        const text = payload.toString("latin1");
        const found = this.scanText(text, "websocket");
        if (found.length > 0) return found;
        const joined = this.scanText(carried + text, "websocket");
        carried = (carried + text).slice(-CARRY);
        return joined;
      },
    };
  }
}
