/** Policy of one bottle: every rule with its provenance and expiry; remove. */
import { useEffect, useState } from "preact/hooks";
import type { WirePolicy } from "../wire.js";
import { api } from "./api.js";
import { anyOr } from "./format.js";

interface Props {
  bottles: string[];
  bottle: string;
  onBottle: (bottle: string) => void;
  onRemove: (bottle: string, host: string) => Promise<void>;
  /** Changes whenever something may have changed the rules (an action, a decision). */
  version: number;
}

export function PolicyView({ bottles, bottle, onBottle, onRemove, version }: Props) {
  const [policy, setPolicy] = useState<WirePolicy | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = bottle === "" ? (bottles[0] ?? "") : bottle;
  useEffect(() => {
    if (current === "") return;
    api.policy(current).then(
      (p) => {
        setPolicy(p);
        setError(null);
      },
      (e: unknown) => {
        setPolicy(null);
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  }, [current, version]);
  return (
    <section aria-label="Policy">
      <div class="filters">
        <label>
          Bottle
          <select
            value={current}
            onChange={(ev) => {
              onBottle(ev.currentTarget.value);
            }}
          >
            {bottles.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        {policy !== null ? (
          <span class="note">
            {policy.effect === "live"
              ? "Rules in force in the running sidecar."
              : "Saved rules; in force from the next resume."}
          </span>
        ) : null}
      </div>
      {error !== null ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      {policy === null ? null : (
        <>
          <h2>Allowed</h2>
          <table class="grid" aria-label="Allow rules">
            <thead>
              <tr>
                <th>Host</th>
                <th>Ports</th>
                <th>Methods</th>
                <th>Paths</th>
                <th>TLS</th>
                <th>Provenance</th>
                <th>Expiry</th>
                <th>Actions</th>
              </tr>
            </thead>
            <tbody>
              {policy.rules.allow.map((r) => (
                <tr key={r.host} data-rule={r.host}>
                  <td class="mono">
                    {r.host}
                    {r.internal ? <span class="pill warn">internal</span> : null}
                  </td>
                  <td>{r.ports.join(", ")}</td>
                  <td>{anyOr(r.methods)}</td>
                  <td class="mono">{anyOr(r.paths)}</td>
                  <td>{r.tls}</td>
                  <td class="provenance">
                    {r.source}
                    {r.request_id === null ? "" : ` ${r.request_id}`}
                    {r.added_by === null ? "" : `, by ${r.added_by}`}
                    {r.added_at === null ? "" : ` at ${new Date(r.added_at).toLocaleString()}`}
                  </td>
                  <td>
                    {r.once ? "once (next request) " : ""}
                    {r.expires_at === null
                      ? r.once
                        ? ""
                        : "never"
                      : `until ${new Date(r.expires_at).toLocaleString()}`}
                  </td>
                  <td>
                    <button
                      type="button"
                      aria-label={`Remove ${r.host}`}
                      onClick={() => void onRemove(current, r.host)}
                    >
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Denied</h2>
          {policy.rules.deny.length === 0 ? (
            <p class="empty">No deny rules (the built-in deny list still applies).</p>
          ) : (
            <ul class="denies">
              {policy.rules.deny.map((host) => (
                <li key={host}>
                  <span class="mono">{host}</span>{" "}
                  <button
                    type="button"
                    aria-label={`Remove deny ${host}`}
                    onClick={() => void onRemove(current, host)}
                  >
                    Remove
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
