/**
 * Live traffic of every bottle (or one): egress, credential and git entries in time order, with
 * filters and a search; denials highlighted with their rule and reason, each with "Allow this…",
 * which opens the approve form (it files nothing by itself).
 */
import { useMemo, useState } from "preact/hooks";
import type { WireTraffic } from "../wire.js";
import { clock } from "./format.js";
import { VirtualList } from "./virtual-list.js";

export interface TrafficFilter {
  bottle: string;
  host: string;
  verdict: string;
  kind: string;
  method: string;
  search: string;
}

export const NO_FILTER: TrafficFilter = {
  bottle: "",
  host: "",
  verdict: "",
  kind: "",
  method: "",
  search: "",
};

interface Props {
  entries: WireTraffic[];
  bottles: string[];
  filter: TrafficFilter;
  onFilter: (filter: TrafficFilter) => void;
  onAllow: (entry: WireTraffic) => void;
}

function matches(e: WireTraffic, f: TrafficFilter): boolean {
  if (f.bottle !== "" && e.bottle !== f.bottle) return false;
  if (f.host !== "" && !e.host.toLowerCase().includes(f.host.toLowerCase())) return false;
  if (f.verdict !== "" && e.verdict !== f.verdict) return false;
  if (f.kind !== "" && e.kind !== f.kind) return false;
  if (f.method !== "" && e.method !== f.method) return false;
  if (f.search !== "") {
    const text = [
      e.bottle,
      e.host,
      e.path,
      e.method,
      e.rule,
      e.reason,
      e.finding,
      e.error,
      e.status,
    ]
      .join(" ")
      .toLowerCase();
    if (!text.includes(f.search.toLowerCase())) return false;
  }
  return true;
}

function distinct(entries: WireTraffic[], key: "kind" | "method"): string[] {
  return [...new Set(entries.map((e) => e[key]).filter((v) => v !== ""))].sort();
}

export function TrafficView({ entries, bottles, filter, onFilter, onAllow }: Props) {
  const [follow, setFollow] = useState(true);
  const shown = useMemo(() => entries.filter((e) => matches(e, filter)), [entries, filter]);
  const kinds = useMemo(() => distinct(entries, "kind"), [entries]);
  const methods = useMemo(() => distinct(entries, "method"), [entries]);
  const set = (key: keyof TrafficFilter) => (ev: Event) => {
    onFilter({ ...filter, [key]: (ev.currentTarget as HTMLInputElement).value });
  };
  const denials = shown.filter((e) => e.verdict === "deny").length;
  return (
    <section aria-label="Traffic">
      <form
        class="filters"
        onSubmit={(ev) => {
          ev.preventDefault();
        }}
      >
        <label>
          Bottle
          <select value={filter.bottle} onChange={set("bottle")}>
            <option value="">all bottles</option>
            {bottles.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label>
          Host
          <input type="text" value={filter.host} onInput={set("host")} placeholder="contains" />
        </label>
        <label>
          Verdict
          <select value={filter.verdict} onChange={set("verdict")}>
            <option value="">any</option>
            <option value="allow">allow</option>
            <option value="deny">deny</option>
            <option value="error">error</option>
          </select>
        </label>
        <label>
          Kind
          <select value={filter.kind} onChange={set("kind")}>
            <option value="">any</option>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Method
          <select value={filter.method} onChange={set("method")}>
            <option value="">any</option>
            {methods.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search
          <input type="search" value={filter.search} onInput={set("search")} />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={follow}
            onChange={(ev) => {
              setFollow(ev.currentTarget.checked);
            }}
          />
          Follow new entries
        </label>
      </form>
      <p class="count" aria-live="polite">
        {shown.length} of {entries.length} entries, {denials} denied
      </p>
      <div class="trow thead" role="presentation">
        <span>Time</span>
        <span>Bottle</span>
        <span>Kind</span>
        <span>Method</span>
        <span>Host</span>
        <span>Path</span>
        <span>Verdict</span>
        <span>Rule and reason</span>
      </div>
      <VirtualList
        count={shown.length}
        rowHeight={30}
        height={Math.max(240, window.innerHeight - 260)}
        follow={follow}
        label="Traffic entries"
        row={(i) => {
          const e = shown[i];
          if (e === undefined) return null;
          return (
            <div class={`trow verdict-${e.verdict}`} data-seq={e.seq}>
              <span role="cell">{clock(e.time)}</span>
              <span role="cell" class="mono">
                {e.bottle}
              </span>
              <span role="cell">{e.kind}</span>
              <span role="cell">{e.method}</span>
              <span role="cell" class="mono">
                {e.host}
                {e.port === null ? "" : `:${e.port}`}
              </span>
              <span role="cell" class="mono" title={e.path ?? ""}>
                {e.path ?? ""}
              </span>
              <span role="cell">
                {e.verdict}
                {e.status === null ? "" : ` ${e.status}`}
              </span>
              <span role="cell" class="why">
                <span class="why-text" title={e.reason ?? ""}>
                  {e.rule === null ? "" : `[${e.rule}] `}
                  {e.verdict === "allow" ? "" : (e.reason ?? e.error ?? "")}
                  {e.finding === null ? "" : ` finding ${e.finding}`}
                </span>
                {e.verdict === "deny" && e.log === "egress" ? (
                  <button
                    type="button"
                    class="allow-this"
                    onClick={() => {
                      onAllow(e);
                    }}
                  >
                    Allow this…
                  </button>
                ) : null}
              </span>
            </div>
          );
        }}
      />
    </section>
  );
}
