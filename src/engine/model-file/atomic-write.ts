/**
 * The atomic writers moved to src/io/atomic.ts (data, retrieval and the CLI use them too). This
 * re-export keeps bench/support.ts and bench/retrieval.ts compiling until their imports point there.
 */
export { writeFileAtomic } from "../../io/atomic.js";
