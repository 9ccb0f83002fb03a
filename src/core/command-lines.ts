/**
 * Every `bottle` command line the product prints (help examples, hints, the advice in a denial),
 * built in one place so that what a user or an agent is told to type is what the CLI parses.
 * `test/unit/command-lines.test.ts` parses each of them, and the README's examples, against the
 * real command tree.
 */

/** Where the identity goes when the text is read by someone who does not know it yet. */
export const IDENTITY_SLOT = "<identity>";

export interface AllowOptions {
  internal?: boolean;
  methods?: readonly string[];
}

export interface ApproveLineOptions {
  scope?: "once" | "for" | "bottle";
  /** With scope `for`: `2s`, `30m`, `1h`. */
  duration?: string;
  methods?: readonly string[];
  paths?: readonly string[];
  internal?: boolean;
  yes?: boolean;
  /** An image change: restart the bottle on its new image without asking. */
  restart?: boolean;
}

/** Quotes a word for a POSIX shell when it holds anything but plain characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:,@%+=-]+$/.test(word) ? word : `"${word.replace(/["\\$`]/g, "\\$&")}"`;
}

export const commandLines = {
  policyAllow(identity: string, host: string, options: AllowOptions = {}): string {
    const extras = [
      ...(options.methods === undefined || options.methods.length === 0
        ? []
        : ["--method", ...options.methods]),
      ...(options.internal === true ? ["--internal"] : []),
    ];
    return ["bottle policy allow", identity, host, ...extras].join(" ");
  },
  policyList(identity: string): string {
    return `bottle policy list ${identity}`;
  },
  policyRemoveRequest(identity: string, requestId: string): string {
    return `bottle policy remove ${identity} --request ${requestId}`;
  },
  list(): string {
    return "bottle list";
  },
  dashboard(options: { port?: number; open?: boolean } = {}): string {
    return [
      "bottle dashboard",
      ...(options.port === undefined ? [] : ["--port", String(options.port)]),
      ...(options.open === false ? ["--no-open"] : []),
    ].join(" ");
  },
  requests(options: { identity?: string; all?: boolean; watch?: boolean } = {}): string {
    return [
      "bottle requests",
      ...(options.identity === undefined ? [] : [options.identity]),
      ...(options.all === true ? ["--all"] : []),
      ...(options.watch === true ? ["--watch"] : []),
    ].join(" ");
  },
  approve(reference: string, options: ApproveLineOptions = {}): string {
    const scope =
      options.scope === "once"
        ? ["--once"]
        : options.scope === "for"
          ? ["--for", options.duration ?? "1h"]
          : options.scope === "bottle"
            ? ["--bottle"]
            : [];
    return [
      "bottle approve",
      reference,
      ...scope,
      ...(options.methods === undefined ? [] : ["--methods", options.methods.join(",")]),
      ...(options.paths === undefined ? [] : ["--paths", options.paths.join(",")]),
      ...(options.internal === true ? ["--internal"] : []),
      ...(options.yes === true ? ["--yes"] : []),
      ...(options.restart === true ? ["--restart"] : []),
    ].join(" ");
  },
  /** One request whole (an image change as a diff). */
  request(reference: string): string {
    return `bottle requests ${reference}`;
  },
  resume(identity: string): string {
    return `bottle resume ${identity}`;
  },
  start(agent: string, options: { yes?: boolean; detach?: boolean } = {}): string {
    return [
      "bottle start",
      agent,
      ...(options.yes === true ? ["--yes"] : []),
      ...(options.detach === true ? ["--detach"] : []),
    ].join(" ");
  },
  /** A warm pool: its size set (0 drains it), or every pool shown. */
  pool(agent?: string, size?: number): string {
    return [
      "bottle pool",
      ...(agent === undefined ? [] : [agent]),
      ...(size === undefined ? [] : ["--size", String(size)]),
    ].join(" ");
  },
  attach(identity: string): string {
    return `bottle attach ${identity}`;
  },
  stop(identity: string): string {
    return `bottle stop ${identity}`;
  },
  deny(reference: string, reason?: string): string {
    return [
      "bottle deny",
      reference,
      ...(reason === undefined ? [] : ["--reason", shellWord(reason)]),
    ].join(" ");
  },
};
