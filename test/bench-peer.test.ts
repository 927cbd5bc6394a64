// The peer driver of the timing comparisons (bench/peer-process.ts, bench/train.ts): a peer that
// crashes, answers an error, or runs another configuration fails the benchmark — it is never
// recorded as skipped.
import { describe, expect, it } from "vitest";
import { PeerProcess } from "../bench/peer-process.js";
import { checkPeerConfig, STEP_CONFIG } from "../bench/train.js";

/** A fake peer in Node: prints a ready line, then answers "window N" until `failAfter` windows. */
function fakePeer(failAfter: number, how: "exit" | "error"): PeerProcess {
  const script = `
    const rl = require("node:readline").createInterface({ input: process.stdin });
    console.log(JSON.stringify({ ready: true }));
    let n = 0;
    rl.on("line", (line) => {
      if (n++ >= ${failAfter}) {
        if (${JSON.stringify(how)} === "exit") { console.error("peer: out of memory"); process.exit(3); }
        console.log(JSON.stringify({ error: "torch does not multiply through OpenBLAS" }));
        return;
      }
      console.log(JSON.stringify({ steps: Number(line.split(" ")[1]), examples_per_s: 1000 }));
    });`;
  return new PeerProcess("fake peer", process.execPath, ["-e", script], process.env);
}

describe("PeerProcess", () => {
  it("answers windows in order, then fails with the exit code and stderr when the peer crashes", async () => {
    const peer = fakePeer(2, "exit");
    try {
      await expect(peer.ready).resolves.toEqual({ ready: true });
      await expect(peer.request("window 3")).resolves.toEqual({ steps: 3, examples_per_s: 1000 });
      await expect(peer.request("window 4")).resolves.toEqual({ steps: 4, examples_per_s: 1000 });
      const crash = peer.request("window 5");
      await expect(crash).rejects.toThrow(/fake peer exited with code 3.*\n?.*peer: out of memory/s);
      await expect(peer.request("window 6")).rejects.toThrow(/exited with code 3/);
    } finally {
      await peer.close();
    }
  });

  it("turns an {error} answer into a failure carrying the peer's reason", async () => {
    const peer = fakePeer(0, "error");
    try {
      await peer.ready;
      await expect(peer.request("window 1")).rejects.toThrow(
        "fake peer: torch does not multiply through OpenBLAS",
      );
    } finally {
      await peer.close();
    }
  });

  it("fails when the command cannot be started", async () => {
    const peer = new PeerProcess("missing peer", "/nonexistent/python3", [], process.env);
    await expect(peer.ready).rejects.toThrow(/missing peer: cannot start \/nonexistent\/python3/);
    await peer.close();
  });
});

describe("checkPeerConfig", () => {
  const ready = (config: Record<string, unknown>, sparse = true) => ({
    ready: true,
    config,
    sparse_grads: sparse,
  });

  it("accepts the same configuration", () => {
    expect(() => checkPeerConfig("peer", ready({ ...STEP_CONFIG }))).not.toThrow();
  });

  it("names the first field that differs, an extra field, and dense gradients", () => {
    expect(() => checkPeerConfig("peer", ready({ ...STEP_CONFIG, num_negatives: 1000 }))).toThrow(
      "peer runs a different configuration: num_negatives = 1000, ours 2000",
    );
    expect(() => checkPeerConfig("peer", ready({ ...STEP_CONFIG, tower: [1024, 512] }))).toThrow(/tower/);
    expect(() => checkPeerConfig("peer", ready({ ...STEP_CONFIG, dropout: 0.1 }))).toThrow(/dropout/);
    expect(() => checkPeerConfig("peer", ready({ ...STEP_CONFIG }, false))).toThrow(
      /sparse embedding gradients/,
    );
  });
});
