/**
 * The dashboard page: bottles, live traffic, requests and policy of every bottle in this state
 * home. Data comes from the page's own server (/api/, same origin, the session cookie); traffic
 * and requests arrive as server-sent events. The tab title shows the pending count, and a
 * desktop notification (when allowed) names each new request's bottle, host, method and path.
 */
import { render } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { WireBottle, WireRequest, WireTraffic } from "../wire.js";
import { api, messageOf } from "./api.js";
import type { ApproveTarget } from "./approve-form.js";
import { ApproveForm } from "./approve-form.js";
import { BottlesView } from "./bottles-view.js";
import { PolicyView } from "./policy-view.js";
import { RequestsView, refOf } from "./requests-view.js";
import type { TrafficFilter } from "./traffic-view.js";
import { NO_FILTER, TrafficView } from "./traffic-view.js";

type Tab = "bottles" | "traffic" | "requests" | "policy";
const TABS: { id: Tab; label: string }[] = [
  { id: "bottles", label: "Bottles" },
  { id: "traffic", label: "Traffic" },
  { id: "requests", label: "Requests" },
  { id: "policy", label: "Policy" },
];
/** Entries kept in the page; the server keeps more, the audit files everything. */
const KEEP = 20_000;

function notify(r: WireRequest): void {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const spec = r.request.spec;
  const what =
    spec.kind === "egress"
      ? `${spec.egress.host} ${(spec.egress.methods ?? ["any method"]).join(",")} ${(spec.egress.paths ?? ["/"]).join(" ")}`
      : spec.kind === "push-branch"
        ? `push ${spec.push_branch.pattern}`
        : `image change: ${spec.image.dockerfile.split("\n")[0] ?? ""}`;
  new Notification(`${r.identity} asks`, { body: what, tag: refOf(r) });
}

function App() {
  const [tab, setTab] = useState<Tab>("bottles");
  const [bottles, setBottles] = useState<WireBottle[]>([]);
  const [requests, setRequests] = useState<WireRequest[]>([]);
  const [traffic, setTraffic] = useState<WireTraffic[]>([]);
  const [filter, setFilter] = useState<TrafficFilter>(NO_FILTER);
  const [bottle, setBottle] = useState("");
  const [target, setTarget] = useState<ApproveTarget | null>(null);
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [connected, setConnected] = useState(false);
  const seen = useRef<Set<string> | null>(null);

  const loadBottles = useCallback(() => {
    api.bottles().then(setBottles, (e: unknown) => {
      setMessage({ text: e instanceof Error ? e.message : String(e), error: true });
    });
  }, []);

  useEffect(() => {
    loadBottles();
    const timer = setInterval(loadBottles, 5000);
    const events = new EventSource("/api/events");
    events.addEventListener("open", () => {
      setConnected(true);
    });
    events.addEventListener("error", () => {
      setConnected(false);
    });
    events.addEventListener("traffic", (ev) => {
      const batch = JSON.parse((ev as MessageEvent<string>).data) as WireTraffic[];
      setTraffic((old) => {
        const known = old.length === 0 ? 0 : (old[old.length - 1]?.seq ?? 0);
        const fresh = batch.filter((e) => e.seq > known);
        const next = old.concat(fresh);
        return next.length > KEEP ? next.slice(-KEEP) : next;
      });
    });
    events.addEventListener("requests", (ev) => {
      const list = JSON.parse((ev as MessageEvent<string>).data) as WireRequest[];
      const pending = list.filter((r) => r.status === "pending");
      if (seen.current !== null)
        for (const r of pending) if (!seen.current.has(refOf(r))) notify(r);
      seen.current = new Set(list.map(refOf));
      setRequests(list);
      setVersion((v) => v + 1);
    });
    return () => {
      clearInterval(timer);
      events.close();
    };
  }, [loadBottles]);

  const pending = requests.filter((r) => r.status === "pending").length;
  useEffect(() => {
    document.title = pending > 0 ? `(${pending}) bot-bottle dashboard` : "bot-bottle dashboard";
  }, [pending]);

  const say = (text: string, error = false): void => {
    setMessage({ text, error });
  };
  const fail = (e: unknown): void => {
    say(messageOf(e), true);
  };

  const act = async (action: "stop" | "resume", id: string): Promise<void> => {
    if (
      action === "stop" &&
      !window.confirm(`Stop ${id}? Its workspace is saved; resume brings it back.`)
    )
      return;
    setBusy(id);
    try {
      say((await api.act({ action, bottle: id })).done);
    } catch (e) {
      fail(e);
    } finally {
      setBusy(null);
      loadBottles();
    }
  };
  const deny = async (refs: string[], reason: string): Promise<void> => {
    for (const request of refs) {
      try {
        say(
          (await api.act({ action: "deny", request, ...(reason === "" ? {} : { reason }) })).done,
        );
      } catch (e) {
        fail(e);
      }
    }
  };
  const approveMany = async (items: WireRequest[]): Promise<void> => {
    for (const r of items) {
      try {
        const request = refOf(r);
        say(
          (
            await api.act({
              action: "approve",
              request,
              scope: "bottle",
              revision: r.request.revision,
            })
          ).done,
        );
      } catch (e) {
        fail(e);
      }
    }
  };
  const allowThis = (entry: WireTraffic): void => {
    const asked = requests.find(
      (r) =>
        r.status === "pending" &&
        r.identity === entry.bottle &&
        r.request.spec.kind === "egress" &&
        r.request.spec.egress.host.toLowerCase() === entry.host.toLowerCase(),
    );
    setTarget(asked === undefined ? { kind: "allow", entry } : { kind: "request", request: asked });
  };
  const show = (next: "traffic" | "requests" | "policy", id: string): void => {
    if (next === "traffic") setFilter({ ...NO_FILTER, bottle: id });
    else setBottle(id);
    setTab(next);
  };
  const names = bottles.map((b) => b.identity);
  return (
    <>
      <header>
        <h1>bot-bottle</h1>
        <nav aria-label="Views">
          {TABS.map((t) => (
            <button
              key={t.id}
              type="button"
              class={tab === t.id ? "tab current" : "tab"}
              aria-current={tab === t.id ? "page" : undefined}
              onClick={() => {
                setTab(t.id);
              }}
            >
              {t.label}
              {t.id === "requests" && pending > 0 ? <span class="badge">{pending}</span> : null}
            </button>
          ))}
        </nav>
        <span class={connected ? "live on" : "live"}>{connected ? "live" : "reconnecting…"}</span>
        {"Notification" in window && Notification.permission === "default" ? (
          <button
            type="button"
            onClick={() =>
              void Notification.requestPermission().then(() => {
                setVersion((v) => v + 1);
              })
            }
          >
            Enable desktop notifications
          </button>
        ) : null}
      </header>
      {message !== null ? (
        <p role="status" class={message.error ? "message error" : "message"}>
          {message.text}{" "}
          <button
            type="button"
            class="link"
            onClick={() => {
              setMessage(null);
            }}
          >
            dismiss
          </button>
        </p>
      ) : null}
      <main>
        {tab === "bottles" ? (
          <BottlesView
            bottles={bottles}
            busy={busy}
            onAct={(a, id) => void act(a, id)}
            onShow={show}
          />
        ) : tab === "traffic" ? (
          <TrafficView
            entries={traffic}
            bottles={names}
            filter={filter}
            onFilter={setFilter}
            onAllow={allowThis}
          />
        ) : tab === "requests" ? (
          <RequestsView
            requests={requests}
            bottle={bottle}
            onApprove={(ref) => {
              const r = requests.find((x) => refOf(x) === ref);
              if (r !== undefined) setTarget({ kind: "request", request: r });
            }}
            onDeny={(refs, reason) => void deny(refs, reason)}
            onApproveMany={(items) => void approveMany(items)}
          />
        ) : (
          <PolicyView
            bottles={names}
            bottle={bottle}
            onBottle={setBottle}
            version={version}
            onRemove={async (id, host) => {
              try {
                say((await api.act({ action: "policy-remove", bottle: id, host })).done);
                setVersion((v) => v + 1);
              } catch (e) {
                fail(e);
              }
            }}
          />
        )}
      </main>
      {target !== null ? (
        <ApproveForm
          target={target}
          onClose={() => {
            setTarget(null);
          }}
          onDone={(text) => {
            setTarget(null);
            say(text);
            setVersion((v) => v + 1);
            loadBottles();
          }}
        />
      ) : null}
    </>
  );
}

const root = document.getElementById("app");
if (root !== null) {
  root.textContent = "";
  render(<App />, root);
  // Read by the scale test (first render under 1 s).
  performance.mark("dashboard-rendered");
}
