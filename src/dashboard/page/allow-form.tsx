/**
 * "Allow this…" on a denial that no pending request covers: an operator rule for the denied host
 * (the same change as `bottle policy allow`), prefilled from the denial. Nothing is written until
 * the operator presses Allow.
 */
import { useState } from "preact/hooks";
import { CheckField, TextField } from "./fields.js";
import type { WireTraffic } from "../wire.js";
import { api, messageOf } from "./api.js";
import { splitList } from "./format.js";

export function AllowForm({ entry, onDone }: { entry: WireTraffic; onDone: (m: string) => void }) {
  const [ports, setPorts] = useState(entry.port === null ? "" : String(entry.port));
  const [methods, setMethods] = useState(entry.method === "CONNECT" ? "" : entry.method);
  const [paths, setPaths] = useState(entry.path ?? "");
  const [internal, setInternal] = useState(entry.rule === "internal-address");
  const [error, setError] = useState<string | null>(null);
  const submit = async (): Promise<void> => {
    try {
      const portList = splitList(ports).map(Number);
      const result = await api.act({
        action: "policy-allow",
        bottle: entry.bottle,
        host: entry.host,
        internal,
        ...(portList.length > 0 ? { ports: portList } : {}),
        ...(splitList(methods).length > 0 ? { methods: splitList(methods) } : {}),
        ...(splitList(paths).length > 0 ? { paths: splitList(paths) } : {}),
      });
      onDone(result.done);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <form
      onSubmit={(ev) => {
        ev.preventDefault();
        void submit();
      }}
    >
      <p>
        No pending request of <span class="mono">{entry.bottle}</span> asks for{" "}
        <b class="mono">{entry.host}</b>. This adds an operator rule (like{" "}
        <code>bottle policy allow</code>); nothing is filed until you press Allow.
      </p>
      <TextField label="Ports" value={ports} onValue={setPorts} />
      <TextField label="Methods" value={methods} placeholder="any" onValue={setMethods} />
      <TextField label="Path prefixes" value={paths} placeholder="any" onValue={setPaths} />
      <CheckField label="Internal address allowed" checked={internal} onChecked={setInternal} />
      {error !== null ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
      <button type="submit" class="primary">
        Allow
      </button>
    </form>
  );
}
