/**
 * Build contexts of the images bot-bottle builds, and their content hashes. The hash names the
 * image tag, so an image is rebuilt exactly when something that goes into it changed.
 *
 * - agent recipes (`images/agent-<provider>/Dockerfile`, or the manifest's own Dockerfile):
 *   the Dockerfile, the other files of a built-in recipe folder, and the files of
 *   images/agent-common (`relay.c`, the relay's source, built in the image's first stage; the
 *   preload that points Node's fetch at the proxy);
 * - the sidecar (`images/sidecar/Dockerfile`): the Dockerfile, the compiled code and the package's
 *   package.json and lock file under `app/` (the image installs the runtime dependencies), and
 *   the sidecar's bundle (dist/sidecar: what the image runs, one file to load instead of hundreds).
 *
 * Reads files only. A missing compiled file means the package was not built (`npm run build`).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface ContextFile {
  name: string;
  content: Buffer;
}

export const SIDECAR_RECIPE = "images/sidecar/Dockerfile";

function filesUnder(dir: string, prefix: string, keep: (name: string) => boolean): ContextFile[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => keep(name) && fs.statSync(path.join(dir, name)).isFile())
    .sort()
    .map((name) => ({
      name: path.posix.join(prefix, name.split(path.sep).join("/")),
      content: fs.readFileSync(path.join(dir, name)),
    }));
}

/**
 * The files of one recipe's build context. `recipe` is relative to the package root for built-in
 * recipes, or an absolute path to a manifest's Dockerfile. Undefined when the Dockerfile is missing.
 */
export function imageContext(packageRoot: string, recipe: string): ContextFile[] | undefined {
  const dockerfile = path.isAbsolute(recipe) ? recipe : path.join(packageRoot, recipe);
  if (!fs.existsSync(dockerfile)) return undefined;
  const files: ContextFile[] = [{ name: "Dockerfile", content: fs.readFileSync(dockerfile) }];
  if (recipe === SIDECAR_RECIPE) {
    // Without its bundle the image would have nothing to run: not built (`npm run build`).
    if (!fs.existsSync(path.join(packageRoot, "dist", "sidecar", "main.js"))) return undefined;
    for (const name of ["package.json", "package-lock.json"]) {
      files.push({ name: `app/${name}`, content: fs.readFileSync(path.join(packageRoot, name)) });
    }
    for (const folder of ["src", "sidecar"]) {
      files.push(
        ...filesUnder(path.join(packageRoot, "dist", folder), `app/dist/${folder}`, (n) =>
          n.endsWith(".js"),
        ),
      );
    }
    return files;
  }
  if (!path.isAbsolute(recipe)) {
    files.push(...filesUnder(path.dirname(dockerfile), "", (n) => n !== "Dockerfile"));
  }
  // Files every agent image gets (the relay's source, the fetch proxy preload), whatever its recipe.
  files.push(...filesUnder(path.join(packageRoot, "images", "agent-common"), "", () => true));
  return files;
}

export function contextHash(files: readonly ContextFile[], base: string): string {
  const hash = createHash("sha256");
  hash.update(`base=${base}\0`);
  for (const file of files) {
    hash.update(`${file.name}\0${file.content.length}\0`);
    hash.update(file.content);
  }
  return hash.digest("hex");
}
