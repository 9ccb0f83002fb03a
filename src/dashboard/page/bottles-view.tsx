/** Bottles: identity, agent, provider, status, health, runtime, age, what waits; stop / resume. */
import type { WireBottle } from "../wire.js";
import { age } from "./format.js";

interface Props {
  bottles: WireBottle[];
  busy: string | null;
  onAct: (action: "stop" | "resume", bottle: string) => void;
  onShow: (tab: "traffic" | "requests" | "policy", bottle: string) => void;
}

export function BottlesView({ bottles, busy, onAct, onShow }: Props) {
  const now = Date.now();
  if (bottles.length === 0) return <p class="empty">No bottles in this state home yet.</p>;
  return (
    <table class="grid" aria-label="Bottles">
      <thead>
        <tr>
          <th>Identity</th>
          <th>Agent</th>
          <th>Provider</th>
          <th>Status</th>
          <th>Health</th>
          <th>Runtime</th>
          <th>Age</th>
          <th>Waiting</th>
          <th>Actions</th>
        </tr>
      </thead>
      <tbody>
        {bottles.map((b) => (
          <tr key={b.identity} data-bottle={b.identity}>
            <td class="mono">{b.identity}</td>
            <td>{b.agent}</td>
            <td>{b.provider}</td>
            <td>
              <span class={`pill status-${b.status}`}>{b.status}</span>
            </td>
            <td>{b.health}</td>
            <td>{b.runtime}</td>
            <td>{age(b.started_at, now)}</td>
            <td>
              {b.pending_requests > 0 ? (
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    onShow("requests", b.identity);
                  }}
                  aria-label={`Requests of ${b.identity}`}
                >
                  {b.pending_requests} pending
                </button>
              ) : (
                "-"
              )}
              {b.rebuild_pending ? <span class="pill warn"> rebuild on resume</span> : null}
            </td>
            <td class="actions">
              <button
                type="button"
                class="link"
                onClick={() => {
                  onShow("traffic", b.identity);
                }}
                aria-label={`Traffic of ${b.identity}`}
              >
                Traffic
              </button>
              <button
                type="button"
                class="link"
                onClick={() => {
                  onShow("policy", b.identity);
                }}
                aria-label={`Policy of ${b.identity}`}
              >
                Policy
              </button>
              {b.status === "running" ? (
                <button
                  type="button"
                  disabled={busy !== null}
                  aria-label={`Stop ${b.identity}`}
                  onClick={() => {
                    onAct("stop", b.identity);
                  }}
                >
                  {busy === b.identity ? "Stopping…" : "Stop"}
                </button>
              ) : b.status === "stopped" ? (
                <button
                  type="button"
                  disabled={busy !== null}
                  aria-label={`Resume ${b.identity}`}
                  onClick={() => {
                    onAct("resume", b.identity);
                  }}
                >
                  {busy === b.identity ? "Resuming…" : "Resume"}
                </button>
              ) : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
