/**
 * Extra roots for the sidecar's upstream TLS: the PEM certificates in the file named by the host's
 * BOT_BOTTLE_UPSTREAM_CA (for local upstreams with their own CA: tests, a private registry).
 * Only certificates are taken; anything else in the file is ignored.
 */
import fs from "node:fs";
import { BottleError } from "../errors.js";

export const UPSTREAM_CA_ENV = "BOT_BOTTLE_UPSTREAM_CA";

export function readUpstreamCa(env: Readonly<Record<string, string | undefined>>): string[] {
  const file = env[UPSTREAM_CA_ENV];
  if (file === undefined || file === "") return [];
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new BottleError(
      "usage",
      `${UPSTREAM_CA_ENV} names ${file}, which cannot be read (${code}).`,
      {
        hint: `Point ${UPSTREAM_CA_ENV} at a PEM file of CA certificates, or unset it.`,
      },
    );
  }
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (certs.length === 0) {
    throw new BottleError(
      "usage",
      `${UPSTREAM_CA_ENV} names ${file}, which holds no PEM certificate.`,
      {
        hint: `Point ${UPSTREAM_CA_ENV} at a PEM file of CA certificates, or unset it.`,
      },
    );
  }
  return certs.map((cert) => `${cert}\n`);
}
