/** The egress gate reads IP notations and internal ranges with core's pure functions. */
export { InternalRanges, readIpLiteral } from "../../core/policy/ip-address.js";
export type { IpLiteral } from "../../core/policy/ip-address.js";
