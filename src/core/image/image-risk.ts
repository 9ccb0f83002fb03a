/**
 * PURE: risk flags of a proposed image change, computed by the project from the instructions
 * (never taken from the agent's stated reason). They tell the operator what to read twice; none
 * of them is a refusal, and none can weaken the run's hardening (see docs/ARCHITECTURE.md).
 */
import type { Instruction } from "./dockerfile-syntax.js";
import { commandText, parseDockerfile } from "./dockerfile-syntax.js";

export const IMAGE_RISK_CODES = [
  "pipe-to-shell",
  "package-source",
  "setuid",
  "user-change",
  "proxy-or-ca-env",
  "tls-verification-off",
  "path-change",
] as const;
export type ImageRiskCode = (typeof IMAGE_RISK_CODES)[number];

export interface ImageRisk {
  code: ImageRiskCode;
  line: number;
  text: string;
}

interface CommandCheck {
  code: ImageRiskCode;
  pattern: RegExp;
  text: string;
}

const COMMAND_CHECKS: readonly CommandCheck[] = [
  {
    code: "pipe-to-shell",
    pattern:
      /\b(?:curl|wget)\b[^\n;&]*\|\s*(?:sudo\s+)?(?:env\s+)?(?:\S*\/)?(?:ba|da|z|k|fi)?sh\b|\b(?:ba|da|z|k)?sh\b[^\n;&|]*(?:<\(|\$\(|`)\s*(?:curl|wget)\b|\b(?:curl|wget)\b[^\n;&]*\|\s*(?:sudo\s+)?(?:python[0-9.]*|perl|ruby|node)\b/i,
    text: "runs a downloaded script (curl or wget piped to a shell): what it installs is not in this change",
  },
  {
    code: "package-source",
    pattern:
      /\/etc\/apt\/(?:sources\.list|trusted\.gpg|keyrings|preferences)|add-apt-repository|apt-key\b|\/usr\/share\/keyrings|signed-by=|\[trusted=yes\]/i,
    text: "adds an apt package source or signing key",
  },
  {
    code: "package-source",
    pattern:
      /\bnpm\s+config\s+set\s+(?:@[^\s:]+:)?registry|--registry[=\s]|\.npmrc|\byarn\s+config\s+set\s+registry/i,
    text: "points npm at another registry",
  },
  {
    code: "package-source",
    pattern:
      /--(?:extra-)?index-url\b|\bpip[0-9.]*\s+config\s+set\b[^\n]*index|\/etc\/pip\.conf|pip\.conf|\s-i\s+https?:\/\/|--find-links\b/i,
    text: "points pip at another package index",
  },
  {
    code: "setuid",
    pattern: /\bchmod\b[^\n;&|]*(?:\s[ugoa]*[+=][rwxXt]*s|\s0*[2-7][0-7]{3}\b)/i,
    text: "sets a setuid or setgid bit (the bottle runs with no-new-privileges, so it grants nothing there)",
  },
  {
    code: "setuid",
    pattern: /\bsudoers\b|\bapt-get\b[^\n;&|]*\binstall\b[^\n;&|]*\bsudo\b/i,
    text: "installs or configures sudo (the bottle runs with no-new-privileges, so it grants nothing there)",
  },
  {
    code: "tls-verification-off",
    pattern:
      /\bcurl\b[^\n;&|]*\s(?:-k\b|--insecure\b)|--no-check-certificate\b|NODE_TLS_REJECT_UNAUTHORIZED\s*=\s*['"]?0|GIT_SSL_NO_VERIFY|http\.sslverify\s+false|strict-ssl\s+false|--trusted-host\b|PYTHONHTTPSVERIFY\s*=\s*['"]?0|Verify-Peer\s+"?false|Verify-Host\s+"?false|Check-Valid-Until\s+"?false|AllowInsecureRepositories/i,
    text: "turns off TLS or signature verification",
  },
  {
    code: "proxy-or-ca-env",
    pattern: /\/usr\/local\/share\/ca-certificates|\/etc\/ssl\/certs|update-ca-certificates/i,
    text: "changes the trusted CA certificates (the bottle's own CA is added again at every start)",
  },
];

const PROXY_OR_CA_NAMES =
  /^(?:https?_proxy|all_proxy|no_proxy|ftp_proxy|node_extra_ca_certs|ssl_cert_file|ssl_cert_dir|requests_ca_bundle|curl_ca_bundle|git_ssl_cainfo|node_options|npm_config_registry|npm_config_proxy|npm_config_https_proxy|pip_index_url|pip_extra_index_url|ld_preload|ld_library_path)$/i;
const TLS_OFF_NAMES =
  /^(?:node_tls_reject_unauthorized|git_ssl_no_verify|pythonhttpsverify|npm_config_strict_ssl|curl_insecure|pip_trusted_host)$/i;

/** The variable names an ENV or ARG instruction sets (both `K=V ...` and the old `K V` form). */
export function assignedNames(instruction: Instruction): string[] {
  const args = instruction.args;
  if (!args.includes("=") || /^[A-Za-z_][A-Za-z0-9_]*\s/.test(args.split("=")[0] ?? "")) {
    const name = /^([A-Za-z_][A-Za-z0-9_]*)/.exec(args)?.[1];
    return name === undefined ? [] : [name];
  }
  return [...args.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] ?? "");
}

function envRisks(instruction: Instruction): ImageRisk[] {
  const risks: ImageRisk[] = [];
  for (const name of assignedNames(instruction)) {
    const line = instruction.line;
    if (PROXY_OR_CA_NAMES.test(name))
      risks.push({
        code: "proxy-or-ca-env",
        line,
        text: `sets ${name} (proxy, CA, registry or preload variable; the bottle's own values still win at run time)`,
      });
    else if (TLS_OFF_NAMES.test(name))
      risks.push({
        code: "tls-verification-off",
        line,
        text: `sets ${name}, which can turn off TLS verification`,
      });
    else if (name === "PATH")
      risks.push({
        code: "path-change",
        line,
        text: "changes PATH: commands may resolve to other programs",
      });
  }
  return risks;
}

/** Every risk flag of a change, in line order, one per code and line. */
export function imageRisks(dockerfile: string): ImageRisk[] {
  const risks: ImageRisk[] = [];
  for (const instruction of parseDockerfile(dockerfile).instructions) {
    switch (instruction.keyword) {
      case "USER":
        risks.push({
          code: "user-change",
          line: instruction.line,
          text: `switches the build's user to ${instruction.args} (the bottle still runs as its own non-root user)`,
        });
        break;
      case "ENV":
      case "ARG":
        risks.push(...envRisks(instruction));
        break;
      default:
        break;
    }
    if (instruction.keyword !== "RUN" && instruction.keyword !== "ENV") continue;
    const text = instruction.keyword === "RUN" ? commandText(instruction) : instruction.args;
    for (const check of COMMAND_CHECKS) {
      if (check.pattern.test(text))
        risks.push({ code: check.code, line: instruction.line, text: check.text });
    }
  }
  const seen = new Set<string>();
  return risks.filter((risk) => {
    const key = `${risk.code}\0${risk.line}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
