/**
 * Loads @peculiar/x509 on first use (it is not needed by most commands) and points it at Node's
 * WebCrypto. The library keeps its crypto provider in its own module state; this only sets it.
 */
import type * as X509Module from "@peculiar/x509";

export type X509 = typeof X509Module;

export const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export async function loadX509(): Promise<X509> {
  await import("reflect-metadata");
  // A CommonJS package: Node's loader gives its exports as named ones and as `default`, a bundle
  // (the CLI's and the sidecar's, esbuild) only as `default`. Take `default` where there is one.
  const loaded = (await import("@peculiar/x509")) as unknown as X509 & { default?: X509 };
  const x509 = loaded.default ?? loaded;
  x509.cryptoProvider.set(globalThis.crypto);
  return x509;
}
