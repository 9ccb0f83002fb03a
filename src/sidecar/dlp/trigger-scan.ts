/**
 * Where any of many literal strings starts in a text, in ONE pass, PURE: an Aho-Corasick
 * automaton over ASCII folded to lower case (a deterministic table: one array read per character,
 * whatever the number of literals). The detectors' triggers (`ghp_`, `AKIA`, `-----BEGIN `,
 * `password`...) are found by it before any detector runs, so a detector costs nothing on text
 * that holds none of its triggers, and is tried only where one starts.
 *
 * A literal is matched in any case or, when it is case-sensitive, checked against the text where
 * the folded one matched. Characters past ASCII never take part in a literal (the Unicode
 * normalisation layer turns lookalikes into ASCII before this runs).
 */

export interface Trigger {
  /** ASCII text, at least two characters. */
  literal: string;
  caseless: boolean;
  /** Who is told when it shows (an index of the caller's). */
  owner: number;
}

const ALPHABET = 128;

/** ASCII to its lower case; every other code to 0, which no literal holds. */
const FOLD = (() => {
  const table = new Uint8Array(ALPHABET);
  for (let code = 1; code < ALPHABET; code += 1) {
    table[code] = code >= 65 && code <= 90 ? code + 32 : code;
  }
  return table;
})();

export class TriggerScanner {
  /** next state = delta[state * 128 + char] (ASCII; any other char reads as 0). */
  private readonly delta: Int32Array;
  /** The triggers ending in each state: outputs[outputStart[s] .. outputStart[s + 1]). */
  private readonly outputStart: Int32Array;
  private readonly outputs: Int32Array;
  /** 1 where a trigger ends. */
  private readonly terminal: Uint8Array;
  private readonly triggers: readonly Trigger[];

  constructor(triggers: readonly Trigger[]) {
    this.triggers = triggers;
    const next: Map<number, number>[] = [new Map<number, number>()];
    const ends: number[][] = [[]];
    for (const [index, trigger] of triggers.entries()) {
      let state = 0;
      for (let i = 0; i < trigger.literal.length; i += 1) {
        const code = trigger.literal.charCodeAt(i);
        const char = code < ALPHABET ? (FOLD[code] ?? 0) : 0;
        if (char === 0) throw new Error(`a trigger must be ASCII: ${trigger.literal}`);
        let to = next[state]?.get(char);
        if (to === undefined) {
          to = next.length;
          next.push(new Map<number, number>());
          ends.push([]);
          next[state]?.set(char, to);
        }
        state = to;
      }
      ends[state]?.push(index);
    }
    // Breadth first: each state's fallback is the longest proper suffix that is also a state.
    const states = next.length;
    const delta = new Int32Array(states * ALPHABET);
    const fail = new Int32Array(states);
    const order: number[] = [];
    for (let char = 0; char < ALPHABET; char += 1) {
      const to = next[0]?.get(char) ?? 0;
      delta[char] = to;
      if (to !== 0) order.push(to);
    }
    for (let head = 0; head < order.length; head += 1) {
      const state = order[head] ?? 0;
      const fallback = fail[state] ?? 0;
      ends[state]?.push(...(ends[fallback] ?? []));
      for (let char = 0; char < ALPHABET; char += 1) {
        const to = next[state]?.get(char);
        if (to === undefined) {
          delta[state * ALPHABET + char] = delta[fallback * ALPHABET + char] ?? 0;
        } else {
          delta[state * ALPHABET + char] = to;
          fail[to] = delta[fallback * ALPHABET + char] ?? 0;
          order.push(to);
        }
      }
    }
    // Indexed by the character itself: each column holds the transition of its folded letter.
    this.delta = new Int32Array(states * ALPHABET);
    for (let state = 0; state < states; state += 1) {
      for (let code = 0; code < ALPHABET; code += 1) {
        this.delta[state * ALPHABET + code] = delta[state * ALPHABET + (FOLD[code] ?? 0)] ?? 0;
      }
    }
    this.outputStart = new Int32Array(states + 1);
    const flat: number[] = [];
    for (let state = 0; state < states; state += 1) {
      this.outputStart[state] = flat.length;
      flat.push(...(ends[state] ?? []));
    }
    this.outputStart[states] = flat.length;
    this.outputs = Int32Array.from(flat);
    this.terminal = new Uint8Array(states);
    for (let state = 0; state < states; state += 1) {
      if ((ends[state]?.length ?? 0) > 0) this.terminal[state] = 1;
    }
  }

  /**
   * Calls `found(owner, start)` for every place a trigger starts in `text`, in the order their
   * ends come. Overlapping triggers are all reported.
   */
  scan(text: string, found: (owner: number, start: number) => void): void {
    const { delta, outputStart, outputs, terminal, triggers } = this;
    let state = 0;
    const length = text.length;
    for (let i = 0; i < length; i += 1) {
      const code = text.charCodeAt(i);
      state = delta[(state << 7) | (code < ALPHABET ? code : 0)] as number;
      if (terminal[state] !== 1) continue;
      const first = outputStart[state] ?? 0;
      const last = outputStart[state + 1] ?? 0;
      for (let k = first; k < last; k += 1) {
        const trigger = triggers[outputs[k] ?? 0];
        if (trigger === undefined) continue;
        const start = i + 1 - trigger.literal.length;
        if (trigger.caseless || text.startsWith(trigger.literal, start)) {
          found(trigger.owner, start);
        }
      }
    }
  }
}
