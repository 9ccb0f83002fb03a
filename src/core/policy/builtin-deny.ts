/**
 * The built-in egress deny list: paste sites, file drops and request-capture services, the usual
 * places data is sent to leave a network. Added to every bottle's `egress.deny` unless the
 * manifest sets `egress.builtin_deny: false`. One entry is lifted when an allow rule names that
 * exact host (`allow: [pastebin.com]`): the operator asked for it by name. A wildcard allow rule
 * lifts nothing. Each service is listed as its apex and `*.` its subdomains.
 */
import { parseHostPattern } from "./domain-pattern.js";

const SERVICES = [
  // Paste sites
  "pastebin.com",
  "paste.ee",
  "hastebin.com",
  "hastebin.skyra.pw",
  "ghostbin.com",
  "ghostbin.co",
  "dpaste.org",
  "dpaste.com",
  "paste.rs",
  "rentry.co",
  "rentry.org",
  "controlc.com",
  "privatebin.net",
  "justpaste.it",
  "ix.io",
  "sprunge.us",
  "termbin.com",
  "paste.debian.net",
  "pastie.io",
  // File drops
  "transfer.sh",
  "file.io",
  "0x0.st",
  "catbox.moe",
  "litterbox.catbox.moe",
  "tmpfiles.org",
  "temp.sh",
  "bashupload.com",
  "oshi.at",
  "gofile.io",
  "wetransfer.com",
  "sendspace.com",
  "anonfiles.com",
  "filebin.net",
  "keep.sh",
  "uguu.se",
  // Request capture and tunnels to a listener
  "webhook.site",
  "requestbin.com",
  "requestbin.net",
  "pipedream.net",
  "pipedream.com",
  "beeceptor.com",
  "requestcatcher.com",
  "hookbin.com",
  "mockbin.org",
  "postb.in",
  "ptsv2.com",
  "ptsv3.com",
  "ngrok.io",
  "ngrok-free.app",
  "ngrok.app",
  "ngrok-free.dev",
  "localtunnel.me",
  "loca.lt",
  "serveo.net",
  "localhost.run",
  "trycloudflare.com",
  // Out-of-band interaction (OAST) catchers
  "interact.sh",
  "oast.pro",
  "oast.live",
  "oast.site",
  "oast.online",
  "oast.fun",
  "oast.me",
  "burpcollaborator.net",
  "oastify.com",
  "canarytokens.com",
  "dnslog.cn",
  "ceye.io",
] as const;

/** Every pattern of the built-in list (apex and subdomains of each service). */
export const BUILTIN_DENY: readonly string[] = SERVICES.flatMap((host) => [host, `*.${host}`]);

/**
 * The built-in patterns a bottle gets: none when `enabled` is false; otherwise all but those
 * whose host an allow rule names exactly (`*.host` is lifted with `host` only by an exact
 * `*.host` rule).
 */
export function builtinDenyFor(enabled: boolean, allowHosts: readonly string[]): string[] {
  if (!enabled) return [];
  const named = new Set(
    allowHosts.filter((host) => parseHostPattern(host).ok).map((host) => host.toLowerCase()),
  );
  return BUILTIN_DENY.filter((pattern) => !named.has(pattern));
}
