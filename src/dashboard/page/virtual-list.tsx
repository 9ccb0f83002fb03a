/**
 * A list that renders only the rows in view (fixed row height), so 10,000 entries stay cheap.
 * `follow`: keep the view at the end while new rows arrive, unless the operator scrolled up.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

interface Props {
  count: number;
  rowHeight: number;
  height: number;
  follow: boolean;
  label: string;
  row: (index: number) => ComponentChildren;
}

const OVERSCAN = 10;

export function VirtualList({ count, rowHeight, height, follow, label, row }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const atEnd = useRef(true);

  useLayoutEffect(() => {
    const el = box.current;
    if (el !== null && follow && atEnd.current) {
      el.scrollTop = el.scrollHeight;
      setTop(el.scrollTop);
    }
  }, [count, follow]);

  useEffect(() => {
    const el = box.current;
    if (el === null) return undefined;
    const onScroll = (): void => {
      setTop(el.scrollTop);
      atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight * 2;
    };
    el.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      el.removeEventListener("scroll", onScroll);
    };
  }, [rowHeight]);

  const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
  const last = Math.min(count, Math.ceil((top + height) / rowHeight) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++)
    rows.push(
      <div
        key={i}
        class="vrow"
        role="row"
        aria-rowindex={i + 1}
        style={{ top: `${i * rowHeight}px`, height: `${rowHeight}px` }}
      >
        {row(i)}
      </div>,
    );
  return (
    <div
      ref={box}
      class="vlist"
      role="table"
      aria-label={label}
      aria-rowcount={count}
      tabIndex={0}
      style={{ height: `${height}px` }}
    >
      <div class="vspace" style={{ height: `${count * rowHeight}px` }}>
        {rows}
      </div>
    </div>
  );
}
