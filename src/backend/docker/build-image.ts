/**
 * Builds an image through the Engine API when no image with its content-hash tag exists, showing
 * the build's steps as progress. The tag names the content, so a second start builds nothing.
 */
import type Docker from "dockerode";
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

export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch {
    return false;
  }
}

function tarOf(files: readonly ContextFile[]): NodeJS.ReadableStream {
  const archive = pack();
  for (const file of files) archive.entry({ name: file.name, mode: 0o644 }, file.content);
  archive.finalize();
  return archive as unknown as NodeJS.ReadableStream; // a streamx Readable: pipeable, which is all dockerode needs
}

/** Ensures `image.tag` exists, building it from its recipe if needed. */
export async function ensureImage(
  docker: Docker,
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
  const stream = await docker.buildImage(tarOf(files), {
    t: image.tag,
    buildargs: { BASE_IMAGE: image.base },
    labels: { [LABELS.role]: `image-${image.role}` },
    rm: true,
    forcerm: true,
  });
  const events = await new Promise<BuildEvent[]>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: BuildEvent[]) => {
        if (error) reject(error);
        else resolve(output);
      },
      (event: BuildEvent) => {
        const line = event.stream?.trim();
        if (line !== undefined && /^Step \d+\/\d+/.test(line)) progress(`  ${line}`);
      },
    );
  });
  const failure = events.find((event) => event.error !== undefined);
  if (failure !== undefined) {
    const output = events
      .map((event) => event.stream ?? "")
      .join("")
      .trimEnd()
      .split("\n")
      .slice(-15);
    throw new BottleError(
      "image_build_failed",
      `Building ${image.tag} failed: ${failure.errorDetail?.message ?? failure.error ?? "unknown error"}`,
      {
        details: output,
        hint: `The build's last lines are above. If the base image is missing, set BOT_BOTTLE_BASE_IMAGE or bottles.<name>.image.base.`,
      },
    );
  }
  return "built";
}
