/**
 * Requests of every bottle, pending first: what is asked, merged repeats with hit counts, risk
 * flags; approve (opens the form) or deny with a reason; several at once.
 */
import { useState } from "preact/hooks";
import type { WireRequest } from "../wire.js";
import { anyOr, clock } from "./format.js";

interface Props {
  requests: WireRequest[];
  bottle: string;
  onApprove: (ref: string) => void;
  onDeny: (refs: string[], reason: string) => void;
  onApproveMany: (items: WireRequest[]) => void;
}

export function refOf(r: WireRequest): string {
  return `${r.identity}/${r.request.id}`;
}

function DiffText({ text }: { text: string }) {
  return (
    <pre class="diff" aria-label="Image change">
      {text.split("\n").map((line, i) => (
        <span key={i} class={line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : ""}>
          {line}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}

export function What({ r }: { r: WireRequest }) {
  const spec = r.request.spec;
  switch (spec.kind) {
    case "egress":
      return (
        <span class="mono">
          {spec.egress.host} ports {anyOr(spec.egress.ports, "443, 80")} methods{" "}
          {anyOr(spec.egress.methods)} paths {anyOr(spec.egress.paths)}
        </span>
      );
    case "push-branch":
      return (
        <span class="mono">
          push branches {spec.push_branch.pattern} ({spec.push_branch.entry ?? "every git entry"})
        </span>
      );
    case "image":
      return (
        <div>
          <span>image change (Dockerfile instructions layered on the bottle's image)</span>
          <DiffText text={r.diff ?? spec.image.dockerfile} />
        </div>
      );
  }
}

export function RequestsView({ requests, bottle, onApprove, onDeny, onApproveMany }: Props) {
  const [showDecided, setShowDecided] = useState(false);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState("");
  const shown = requests.filter(
    (r) => (bottle === "" || r.identity === bottle) && (showDecided || r.status === "pending"),
  );
  const chosen = shown.filter((r) => selected.has(refOf(r)) && r.status === "pending");
  const toggle = (ref: string, on: boolean): void => {
    const next = new Set(selected);
    if (on) next.add(ref);
    else next.delete(ref);
    setSelected(next);
  };
  return (
    <section aria-label="Requests">
      <div class="filters">
        <label class="check">
          <input
            type="checkbox"
            checked={showDecided}
            onChange={(ev) => {
              setShowDecided(ev.currentTarget.checked);
            }}
          />
          Show decided requests
        </label>
        <span class="bulk">
          <button
            type="button"
            disabled={chosen.length === 0}
            onClick={() => {
              onApproveMany(chosen);
              setSelected(new Set());
            }}
          >
            Approve {chosen.length} selected (for the bottle)
          </button>
          <label>
            Deny reason
            <input
              type="text"
              value={reason}
              maxLength={500}
              onInput={(ev) => {
                setReason(ev.currentTarget.value);
              }}
            />
          </label>
          <button
            type="button"
            disabled={chosen.length === 0}
            onClick={() => {
              onDeny(chosen.map(refOf), reason);
              setSelected(new Set());
            }}
          >
            Deny {chosen.length} selected
          </button>
        </span>
      </div>
      {shown.length === 0 ? (
        <p class="empty">No {showDecided ? "" : "pending "}requests.</p>
      ) : (
        <table class="grid" aria-label="Requests">
          <thead>
            <tr>
              <th>
                <span class="sr">Select</span>
              </th>
              <th>Bottle / id</th>
              <th>What</th>
              <th>Agent's reason</th>
              <th>Hits</th>
              <th>Seen</th>
              <th>Risks</th>
              <th>Status</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => {
              const ref = refOf(r);
              const pending = r.status === "pending";
              return (
                <tr key={ref} data-request={ref} class={pending ? "pending" : ""}>
                  <td>
                    {pending ? (
                      <input
                        type="checkbox"
                        aria-label={`Select ${ref}`}
                        checked={selected.has(ref)}
                        onChange={(ev) => {
                          toggle(ref, ev.currentTarget.checked);
                        }}
                      />
                    ) : null}
                  </td>
                  <td class="mono">
                    {r.identity}
                    <br />
                    {r.request.id} rev {r.request.revision}
                  </td>
                  <td>
                    <What r={r} />
                  </td>
                  <td class="reason">{r.request.reason}</td>
                  <td>{r.request.hits}</td>
                  <td>
                    {clock(r.request.first_seen)}
                    {r.request.hits > 1 ? ` – ${clock(r.request.last_seen)}` : ""}
                  </td>
                  <td>
                    {r.flags.map((f) => (
                      <span key={f.code} class="pill risk" title={f.text}>
                        {f.code}
                      </span>
                    ))}
                  </td>
                  <td>
                    {r.status}
                    {r.decision?.note ? <div class="note">{r.decision.note}</div> : null}
                  </td>
                  <td class="actions">
                    {pending ? (
                      <>
                        <button
                          type="button"
                          onClick={() => {
                            onApprove(ref);
                          }}
                        >
                          Approve…
                        </button>
                        <button
                          type="button"
                          onClick={() => {
                            onDeny([ref], reason);
                          }}
                        >
                          Deny
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
