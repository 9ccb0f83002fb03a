/**
 * The egress gate's content checks (ContentInspector): built-in secret detectors and the bottle's
 * own secrets, over every reading of the URL, the headers, the body and WebSocket messages
 * (decode-layers.ts), plus the shapes of data hidden in host names and paths (exfil-shapes.ts).
 *
 * - URL: the path and query as sent, every query value alone, and all query values joined (a
 *   secret split across parameters), and a random-looking path segment.
 * - Headers: each value, and all values joined. Placeholders the bottle itself hands the agent
 *   are removed first: they are not secrets.
 * - Body: decoded from its Content-Encoding (or refused), read as text (JSON's escapes are
 *   undone by the decoding layers).
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
import { jsonPiecesJoined, piecesJoined } from "./split-values.js";

export interface DlpOptions {
  /** Tokens the bottle's gates hold: found in any encoding, they are `own-secret`. */
  ownSecrets: readonly string[];
  /** Values the bottle gives the agent in place of secrets; never findings. */
  placeholders?: readonly string[];
  /** Largest decoded body read. */
  maxBodyBytes?: number;
}

const CARRY = 256;

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
    let result: ReturnType<typeof walkLayers>;
    try {
      result = walkLayers(clean, (layer, decoded) => {
        if (!this.own.empty && this.own.foundIn(layer)) found = "own-secret";
        else found = firstSecret(layer, decoded);
        return found !== null;
      });
    } catch {
      // A check that broke (an engine limit on a huge input) did not finish: refused.
      return "dlp:budget";
    }
    // Checks that could not finish are a finding: what they did not read may hold the secret.
    return result === "exhausted" ? "dlp:budget" : found;
  }

  /**
   * Pieces put back together (split-values.ts): the detectors and own secrets over the joined
   * text as it is. Each piece was already read through every decoding layer where it was sent.
   */
  private scanJoined(text: string, where: string): ContentFinding[] {
    const clean = this.withoutPlaceholders(text);
    const kind =
      !this.own.empty && this.own.foundIn(clean) ? "own-secret" : firstSecret(clean, false);
    return kind === null ? [] : [{ kind, where }];
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
    // JSON is read as its text: its escapes (`\u0067`, `\/`) are undone by the decoding layers.
    const found = this.scanText(text, "body");
    if (found.length > 0) return found;
    // A token cut into short values of several fields, put back together (split-values.ts).
    const pieces = jsonPiecesJoined(text);
    return pieces === null ? [] : this.scanJoined(pieces, "body");
  }

  inspectRequest(request: InspectedRequest): ContentFinding[] {
    for (const check of [
      () => this.inspectUrl(request.path),
      () => this.inspectHeaders(request.headers),
      () => this.inspectBody(request),
      () => this.inspectAcross(request),
    ]) {
      const found = check();
      if (found.length > 0) return found;
    }
    return [];
  }

  /** Short pieces in the query and the header values, joined both ways (split-values.ts). */
  private inspectAcross(request: InspectedRequest): ContentFinding[] {
    const at = request.path.indexOf("?");
    const query =
      at === -1
        ? []
        : request.path
            .slice(at + 1)
            .split("&")
            .map((pair) => pair.slice(pair.indexOf("=") + 1));
    if (query.length === 0) return [];
    const headers = Object.values(request.headers).flatMap((value) =>
      value === undefined ? [] : Array.isArray(value) ? value : [value],
    );
    for (const order of [
      [...headers, ...query],
      [...query, ...headers],
    ]) {
      const joined = piecesJoined(order);
      const found = joined === null ? [] : this.scanJoined(joined, "url");
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
