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
  list(): string {
    return "bottle list";
  },
};
