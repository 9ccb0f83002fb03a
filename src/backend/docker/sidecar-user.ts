/**
 * Who the sidecar runs as. Never root: the operator's uid, so what it writes in the state folder
 * is theirs; or, when the operator is root, a fixed unprivileged uid (SIDECAR_NONROOT_ID), to
 * which the host then hands the bottle's state folder before each start (root still reads it).
 */
import fs from "node:fs";
import path from "node:path";
import { SIDECAR_NONROOT_ID } from "../../core/contract/sidecar-limits.js";

export interface SidecarUser {
  uid: number;
  gid: number;
}

/** PURE: the sidecar's uid:gid for an operator's. */
export function sidecarUserFor(operator: SidecarUser): SidecarUser {
  return operator.uid === 0 ? { uid: SIDECAR_NONROOT_ID, gid: SIDECAR_NONROOT_ID } : operator;
}

/** `uid:gid`, as the engine takes it. */
export function userSpec(user: SidecarUser): string {
  return `${user.uid}:${user.gid}`;
}

/**
 * Makes `dir` and everything under it the sidecar's when it runs as another uid than this
 * process (the operator is root): it reads sidecar.json, policy.json and the CA key (0600), and
 * writes audit/, control/ and git/ there. Symlinks are changed, never followed.
 */
export function handStateTo(dir: string, user: SidecarUser): void {
  if (process.getuid?.() === user.uid) return;
  const walk = (at: string): void => {
    fs.lchownSync(at, user.uid, user.gid);
    const stat = fs.lstatSync(at);
    if (!stat.isDirectory()) return;
    for (const name of fs.readdirSync(at)) walk(path.join(at, name));
  };
  walk(dir);
}
