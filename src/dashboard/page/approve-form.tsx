/**
 * The approve form: what will be allowed, exactly, with its risk flags, before anything is
 * written. For a request: scope (once, for a duration, for the bottle), narrowing of methods and
 * paths, a note; the approval names the revision shown, so a request widened meanwhile is shown
 * again instead. For a denial no request covers ("Allow this…"): an operator rule, like
 * `bottle policy allow`. Opening the form files nothing.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { WirePreview, WireRequest, WireTraffic } from "../wire.js";
import { api, messageOf } from "./api.js";
import { anyOr, splitList } from "./format.js";
import { AllowForm } from "./allow-form.js";
import { CheckField, TextField } from "./fields.js";
import { What } from "./requests-view.js";

export type ApproveTarget =
  { kind: "request"; request: WireRequest } | { kind: "allow"; entry: WireTraffic };

interface Props {
  target: ApproveTarget;
  onDone: (message: string) => void;
  onClose: () => void;
}

function RequestForm({ request, onDone }: { request: WireRequest; onDone: (m: string) => void }) {
  const ref = `${request.identity}/${request.request.id}`;
  const [scope, setScope] = useState<"once" | "for" | "bottle">("bottle");
  const [duration, setDuration] = useState("1h");
  const [methods, setMethods] = useState("");
  const [paths, setPaths] = useState("");
  const [note, setNote] = useState("");
  const [internal, setInternal] = useState(false);
  const [preview, setPreview] = useState<WirePreview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const egress = request.request.spec.kind === "egress";
  const fields = {
    request: ref,
    scope,
    ...(scope === "for" ? { duration } : {}),
    ...(splitList(methods).length > 0 ? { methods: splitList(methods) } : {}),
    ...(splitList(paths).length > 0 ? { paths: splitList(paths) } : {}),
    ...(note === "" ? {} : { note }),
    ...(internal ? { internal } : {}),
  };
  const key = JSON.stringify(fields);
  useEffect(() => {
    let live = true;
    api.preview({ action: "preview", ...fields }).then(
      (p) => {
        if (!live) return;
        setPreview(p);
        setError(null);
      },
      (e: unknown) => {
        if (!live) return;
        setPreview(null);
        setError(messageOf(e));
      },
    );
    return () => {
      live = false;
    };
  }, [key]);
  const approve = async (): Promise<void> => {
    if (preview === null) return;
    try {
      const result = await api.act({
        action: "approve",
        ...fields,
        revision: preview.request.revision,
      });
      onDone(result.done);
    } catch (e) {
      setError(messageOf(e));
      // Shown again: the request as it is now.
      api.preview({ action: "preview", ...fields }).then(setPreview, () => undefined);
    }
  };
  const rule = preview?.rule ?? null;
  return (
    <form
      onSubmit={(ev) => {
        ev.preventDefault();
        void approve();
      }}
    >
      <p>
        <span class="mono">{ref}</span> asks for <What r={request} />
      </p>
      <p class="reason">Agent's reason: {request.request.reason || "(none)"}</p>
      {egress ? (
        <fieldset>
          <legend>Scope</legend>
          {(["once", "for", "bottle"] as const).map((s) => (
            <label key={s} class="check">
              <input
                type="radio"
                name="scope"
                value={s}
                checked={scope === s}
                onChange={() => {
                  setScope(s);
                }}
              />
              {s === "once"
                ? "Once (the next matching request)"
                : s === "for"
                  ? "For a time"
                  : "For the bottle (kept across resume)"}
            </label>
          ))}
          {scope === "for" ? (
            <TextField label="Duration" value={duration} onValue={setDuration} />
          ) : null}
        </fieldset>
      ) : null}
      {egress ? (
        <fieldset>
          <legend>Narrow or mark (optional)</legend>
          <TextField label="Methods" value={methods} placeholder="as asked" onValue={setMethods} />
          <TextField
            label="Path prefixes"
            value={paths}
            placeholder="as asked"
            onValue={setPaths}
          />
          <CheckField
            label="The host may resolve to an internal address (a service on your network)"
            checked={internal}
            onChecked={setInternal}
          />
        </fieldset>
      ) : null}
      <label>
        Note to the agent
        <input
          type="text"
          value={note}
          maxLength={500}
          onInput={(ev) => {
            setNote(ev.currentTarget.value);
          }}
        />
      </label>
      <div class="preview" aria-live="polite" aria-label="What will be allowed">
        {rule !== null ? (
          <p>
            Will allow <b class="mono">{rule.host}</b> ports {rule.ports.join(", ")}, methods{" "}
            {anyOr(rule.methods)}, paths {anyOr(rule.paths)}
            {rule.once ? ", once" : ""}
            {rule.expires_at === null
              ? ""
              : `, until ${new Date(rule.expires_at).toLocaleString()}`}
            .
          </p>
        ) : preview !== null ? (
          <p>Will record the approval of {preview.request.spec.kind}.</p>
        ) : null}
        {preview !== null && preview.lifts.length > 0 ? (
          <p>Lifts deny rules: {preview.lifts.join(", ")}</p>
        ) : null}
        {preview?.flags.map((f) => (
          <p key={f.code} class="risk-line">
            <span class="pill risk">{f.code}</span> {f.text}
          </p>
        ))}
      </div>
      {error !== null ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={preview === null}>
        Approve
      </button>
    </form>
  );
}

export function ApproveForm({ target, onDone, onClose }: Props) {
  const dialog = useRef<HTMLDivElement>(null);
  useEffect(() => {
    dialog.current?.querySelector<HTMLElement>("input, button")?.focus();
    const onKey = (ev: KeyboardEvent): void => {
      if (ev.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
    };
  }, [onClose]);
  return (
    <div class="backdrop">
      <div ref={dialog} class="dialog" role="dialog" aria-modal="true" aria-label="Approve">
        <h2>{target.kind === "request" ? "Approve request" : "Allow this"}</h2>
        {target.kind === "request" ? (
          <RequestForm request={target.request} onDone={onDone} />
        ) : (
          <AllowForm entry={target.entry} onDone={onDone} />
        )}
        <button type="button" class="close" onClick={onClose}>
          Cancel
        </button>
      </div>
    </div>
  );
}
