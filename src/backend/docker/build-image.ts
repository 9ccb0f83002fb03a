/**
 * Builds an image through the Engine API when no image with its content-hash tag exists, showing
 * the build's steps as progress. The tag names the content, so a second start builds nothing.
 */
import type { EngineClient } from "./engine-client.js";
import { readJsonLines } from "./engine-http.js";
import { pack } from "tar-stream";
import { BottleError } from "../../core/errors.js";
import type { PlanImage } from "../../core/plan/bottle-plan.js";
import { LABELS } from "../../core/plan/layout.js";
import type { ContextFile } from "../../images/image-context.js";
import { imageContext } from "../../images/image-context.js";

export type Progress = (line: string) => void;

interface BuildEvent {
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export async function imageExists(docker: EngineClient, tag: string): Promise<boolean> {
  try {
    await docker.inspectImage(tag);
    return true;
  } catch {
    return false;
  }
}

function tarOf(files: readonly ContextFile[]): NodeJS.ReadableStream {
  const archive = pack();
  for (const file of files) archive.entry({ name: file.name, mode: 0o644 }, file.content);
  archive.finalize();
  return archive as unknown as NodeJS.ReadableStream; // a streamx Readable: pipeable, which is all the engine client needs
}

/** Ensures `image.tag` exists, building it from its recipe if needed. */
export async function ensureImage(
  docker: EngineClient,
  root: string,
  image: PlanImage,
  progress: Progress,
): Promise<"reused" | "built"> {
  if (await imageExists(docker, image.tag)) return "reused";
  const files = imageContext(root, image.dockerfile);
  if (files === undefined) {
    throw new BottleError(
      "image_build_failed",
      `The image recipe ${image.dockerfile} does not exist.`,
      {
        hint: "Check bottles.<name>.image.dockerfile in the manifest, or run `npm run build` in a source checkout.",
      },
    );
  }
  progress(`building ${image.role} image ${image.tag} (base ${image.base})`);
  await buildFromContext(docker, {
    files,
    tag: image.tag,
    buildargs: { BASE_IMAGE: image.base },
    role: `image-${image.role}`,
    progress,
    hint: "The build's last lines are above. If the base image is missing, set BOT_BOTTLE_BASE_IMAGE or bottles.<name>.image.base.",
  });
  return "built";
}

export interface BuildRequest {
  files: readonly ContextFile[];
  tag: string;
  buildargs: Record<string, string>;
  /** Value of the role label on the image. */
  role: string;
  progress: Progress;
  /** Every output line, not only the steps (image changes: the operator watches them). */
  streamAll?: boolean;
  /** Receives the whole output once the build ends, built or not. */
  output?: (text: string) => void;
  hint: string;
}

/** How many of the build's last lines a failure shows. */
export const BUILD_TAIL_LINES = 15;

/**
 * Builds `files` into `tag` with the classic builder (no BuildKit, no pull: FROM names a local
 * image). Throws BottleError `image_build_failed` whose details are the build's last lines.
 */
export async function buildFromContext(docker: EngineClient, request: BuildRequest): Promise<void> {
  const stream = await docker.buildImage(tarOf(request.files), {
    t: request.tag,
    buildargs: request.buildargs,
    labels: { [LABELS.role]: request.role },
  });
  const events = await readJsonLines<BuildEvent>(stream, (event) => {
    for (const line of (event.stream ?? "").split("\n")) {
      const trimmed = line.trimEnd();
      if (trimmed === "") continue;
      if (request.streamAll === true || /^Step \d+\/\d+/.test(trimmed))
        request.progress(`  ${trimmed}`);
    }
  });
  const text = events.map((event) => event.stream ?? event.error ?? "").join("");
  request.output?.(text);
  const failure = events.find((event) => event.error !== undefined);
  if (failure !== undefined) {
    const message = failure.errorDetail?.message ?? failure.error ?? "unknown error";
    const tail = [...text.trimEnd().split("\n").slice(-BUILD_TAIL_LINES)];
    if (!tail.includes(message)) tail.push(message);
    throw new BottleError("image_build_failed", `Building ${request.tag} failed: ${message}`, {
      details: tail,
      hint: request.hint,
    });
  }
}
