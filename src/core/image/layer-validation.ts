/**
 * PURE: which image changes an agent may propose. A change is Dockerfile instructions layered on
 * the bottle's current image; the project writes the FROM line, the user the bottle runs as and
 * the entry point, so the change may not. Every refusal names the line and says what to do.
 */
import { BottleError } from "../errors.js";
import type { Instruction, ParsedDockerfile } from "./dockerfile-syntax.js";
import { parseDockerfile } from "./dockerfile-syntax.js";

/** Largest change accepted, in bytes of UTF-8. */
export const MAX_LAYER_BYTES = 64 * 1024;

/** Instructions a change may hold. Anything else is refused with its own reason. */
const ALLOWED = new Set([
  "RUN",
  "ENV",
  "ARG",
  "WORKDIR",
  "USER",
  "LABEL",
  "SHELL",
  "EXPOSE",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "MAINTAINER",
]);

const REFUSED: Record<string, string> = {
  FROM: "FROM is refused: the change is layered on the bottle's current image, and bot-bottle writes the FROM line itself; leave it out",
  ENTRYPOINT:
    "ENTRYPOINT is refused: the bottle's entry point (its relay to the gates) is the project's; install programs and run them from your shell instead",
  CMD: "CMD is refused: the bottle decides what runs in it; install programs and run them from your shell instead",
  COPY: "COPY is refused: the build context is empty, there is nothing to copy; create files with RUN (printf, tee) or install them with a package manager",
  ONBUILD:
    "ONBUILD is refused: no image is built on top of a bottle's image, so it would never run",
  VOLUME:
    "VOLUME is refused: a bottle's only mounts are the project's; keep files under /workspace",
};

const URL_SOURCE = /^(?:[a-z][a-z0-9+.-]*:\/\/|git@)/i;

function addRefusal(instruction: Instruction): string {
  const sources = (instruction.json ?? instruction.args.split(/\s+/)).filter(
    (word) => word !== "" && !word.startsWith("--"),
  );
  if (sources.some((word) => URL_SOURCE.test(word))) {
    return "ADD of a URL is refused: it downloads at build time with nothing the operator can review; download in a RUN step (apt-get, npm, or curl with a checksum check) so the command shows in the change";
  }
  return "ADD is refused: the build context is empty, there is nothing to add; create files with RUN or install them with a package manager";
}

/** Whether a USER argument names root (by name or uid 0, with or without a group). */
export function isRootUser(args: string): boolean {
  const user = args.trim().split(":")[0] ?? "";
  return user === "root" || /^0+$/.test(user);
}

/** The problems of a proposed change; none when it may be filed. */
export function layerProblems(dockerfile: string): string[] {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(dockerfile, "utf8");
  if (bytes > MAX_LAYER_BYTES) {
    return [
      `the change is ${bytes} bytes, more than the ${MAX_LAYER_BYTES} allowed; propose a shorter one (install with a package manager rather than inlining files)`,
    ];
  }
  const parsed: ParsedDockerfile = parseDockerfile(dockerfile);
  for (const directive of parsed.directives) {
    problems.push(
      `line ${directive.line}: the parser directive "${directive.key}=" is refused: bot-bottle writes the top of the Dockerfile, so a directive in the change would not apply; leave it out`,
    );
  }
  for (const problem of parsed.problems) problems.push(`line ${problem.line}: ${problem.message}`);
  if (parsed.instructions.length === 0)
    problems.push("the change holds no instruction; propose at least one (for example a RUN)");
  for (const instruction of parsed.instructions) {
    const at = `line ${instruction.line}`;
    const refused = REFUSED[instruction.keyword];
    if (refused !== undefined) problems.push(`${at}: ${refused}`);
    else if (instruction.keyword === "ADD") problems.push(`${at}: ${addRefusal(instruction)}`);
    else if (!ALLOWED.has(instruction.keyword))
      problems.push(`${at}: "${instruction.keyword}" is not a Dockerfile instruction`);
    else if (instruction.heredocs.length > 0)
      problems.push(
        `${at}: heredocs are refused: bottles are built without BuildKit, which heredocs need; write the file with printf or join the commands with &&`,
      );
    else if (instruction.args === "")
      problems.push(`${at}: ${instruction.keyword} needs arguments`);
  }
  const lastUser = parsed.instructions.filter((i) => i.keyword === "USER").at(-1);
  if (lastUser !== undefined) {
    if (lastUser.args.includes("$")) {
      problems.push(
        `line ${lastUser.line}: the last USER must name its user literally, not through a variable`,
      );
    } else if (isRootUser(lastUser.args)) {
      problems.push(
        `line ${lastUser.line}: USER root may not be left as the final user: the change's RUN steps already run as root, and the bottle always runs as its own non-root user; remove the USER line or switch back after it`,
      );
    }
  }
  return problems;
}

/** Throws BottleError `image_change_refused` listing every problem; returns when the change is fine. */
export function validateLayer(dockerfile: string): void {
  const problems = layerProblems(dockerfile);
  if (problems.length === 0) return;
  throw new BottleError(
    "image_change_refused",
    `The image change was refused: ${problems.length === 1 ? problems[0] : `${problems.length} problems`}.`,
    {
      details: problems.length === 1 ? [] : problems,
      hint: "Propose instructions to add to the current image (current_image_recipe shows it): RUN, ENV, ARG, WORKDIR, USER, LABEL, SHELL. No FROM, COPY, ADD, ENTRYPOINT or CMD.",
    },
  );
}
