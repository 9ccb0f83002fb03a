/** A bottle network's subnet: a /27 of the project's range, candidates in turn, bad ranges refused. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_SUBNET_POOL,
  bottleSubnet,
  parseSubnetPool,
} from "../../src/core/plan/network-subnet.js";
import { BottleError } from "../../src/core/errors.js";

describe("bottle network subnets", () => {
  it("gives a /27 inside the range, its gateway the first address", () => {
    const { subnet, gateway } = bottleSubnet("sh-abc123", 0, DEFAULT_SUBNET_POOL);
    const match = /^10\.213\.(\d+)\.(\d+)\/27$/.exec(subnet);
    assert.ok(match !== null, subnet);
    assert.equal(Number(match[2]) % 32, 0, subnet);
    assert.equal(
      gateway,
      subnet.replace(/\.(\d+)\/27$/, (_, last: string) => `.${String(Number(last) + 1)}`),
    );
  });

  it("tries every slot of the range once before repeating, from a start that depends on the identity", () => {
    const pool = "10.9.0.0/24"; // 8 slots of /27
    const seen = new Set<string>();
    for (let attempt = 0; attempt < 8; attempt++)
      seen.add(bottleSubnet("sh-x", attempt, pool).subnet);
    assert.equal(seen.size, 8);
    assert.equal(bottleSubnet("sh-x", 8, pool).subnet, bottleSubnet("sh-x", 0, pool).subnet);
    const starts = new Set(
      ["a", "b", "c", "d", "e", "f", "g", "h"].map(
        (id) => bottleSubnet(`sh-${id}`, 0, pool).subnet,
      ),
    );
    assert.ok(starts.size > 1, "every identity starts at the same slot");
  });

  it("aligns a range given off its boundary, and refuses what is not an IPv4 range of /8 to /26", () => {
    assert.equal(bottleSubnet("sh-x", 0, "10.9.0.77/26").subnet.startsWith("10.9.0."), true);
    assert.deepEqual(parseSubnetPool("10.9.0.77/26"), {
      base: (10 * 256 + 9) * 65536 + 64,
      slots: 2,
    });
    for (const bad of [
      "10.9.0.0/27",
      "10.9.0.0/7",
      "10.9.0/16",
      "fd00::/64",
      "10.9.0.300/16",
      "",
    ]) {
      assert.throws(
        () => parseSubnetPool(bad),
        (e: unknown) => e instanceof BottleError && /BOT_BOTTLE_SUBNET_POOL/.test(e.message),
        bad,
      );
    }
  });
});
