/**
 * A peer benchmark (bench/peers/*.py) kept running as a child process and driven one timing window
 * at a time over a line protocol, so its windows can be interleaved with ours (A B A B …) without
 * paying its start-up (importing torch, building the model, warming up) per window.
 *
 * Protocol: the peer prints one JSON line when it is ready, then answers each command line on
 * stdin with one JSON line on stdout. Anything else it prints goes to stderr. A peer that exits,
 * prints something that is not JSON, or answers `{"error": ...}` fails the benchmark: the error
 * carries its exit code and the end of its stderr.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";

export type PeerMessage = Record<string, unknown>;

export class PeerProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Array<{ resolve: (m: PeerMessage) => void; reject: (e: Error) => void }> = [];
  private stderr = "";
  private failure: Error | null = null;
  /** The peer's first line (its configuration, library versions, threads). */
  readonly ready: Promise<PeerMessage>;

  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
  ) {
    this.child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.ready = this.next();
    createInterface({ input: this.child.stdout }).on("line", (line) => this.onLine(line));
    this.child.on("error", (error) =>
      this.fail(new Error(`${label}: cannot start ${command}: ${error.message}`)),
    );
    this.child.on("exit", (code, signal) => {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.fail(new Error(`${label} ${how}${this.stderrTail()}`));
    });
  }

  private stderrTail(): string {
    const tail = this.stderr.trim().split("\n").slice(-8).join("\n");
    return tail ? `; its stderr ends with:\n${tail}` : "";
  }

  private next(): Promise<PeerMessage> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }

  private onLine(line: string): void {
    const waiter = this.pending.shift();
    let message: PeerMessage;
    try {
      message = JSON.parse(line) as PeerMessage;
    } catch {
      this.fail(new Error(`${this.label} printed a line that is not JSON: ${line.slice(0, 200)}`), waiter);
      return;
    }
    if (typeof message.error === "string") {
      this.fail(new Error(`${this.label}: ${message.error}`), waiter);
      return;
    }
    if (!waiter) {
      this.fail(new Error(`${this.label} printed a line nobody asked for: ${line.slice(0, 200)}`));
      return;
    }
    waiter.resolve(message);
  }

  private fail(error: Error, first?: { reject: (e: Error) => void }): void {
    if (this.failure === null) this.failure = error;
    first?.reject(this.failure);
    for (const waiter of this.pending.splice(0)) waiter.reject(this.failure);
  }

  /** Sends one command line and waits for its answer. */
  request(command: string): Promise<PeerMessage> {
    const answer = this.next();
    if (!this.failure) this.child.stdin.write(`${command}\n`);
    return answer;
  }

  /** Asks the peer to exit and waits until it has. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.failure ??= new Error(`${this.label} was closed`);
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
