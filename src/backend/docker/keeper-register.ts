/**
 * Hands one bottle to the state home's running keeper over its socket (keeper-protocol.ts) and
 * reads its answer. Fails (rejects) when no keeper answers: the socket is missing or refuses, or
 * the keeper is closing; the caller then starts one (keeper-spawn.ts). Node's own modules only.
 */
import net from "node:net";
import type { KeeperRegistration } from "./keeper-protocol.js";
import { MAX_REGISTRATION_BYTES, parseAnswer } from "./keeper-protocol.js";

/** Resolves with the keeper's pid once it has taken the bottle. */
export function registerWithKeeper(
  socketPath: string,
  registration: KeeperRegistration,
  timeoutMs = 3000,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = "";
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => {
      fail(new Error("the secret keeper did not answer"));
    });
    socket.on("error", (error) => {
      fail(new Error(`the secret keeper cannot be reached (${error.message})`));
    });
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
      if (answer.length > MAX_REGISTRATION_BYTES)
        fail(new Error("the keeper's answer is too long"));
    });
    socket.on("end", () => {
      const parsed = parseAnswer(answer.trim());
      socket.destroy();
      if (parsed?.ok === true) resolve(parsed.pid);
      else reject(new Error(`the secret keeper refused: ${parsed?.reason ?? "no answer"}`));
    });
    socket.on("connect", () => {
      socket.write(`${JSON.stringify(registration)}\n`);
    });
  });
}
