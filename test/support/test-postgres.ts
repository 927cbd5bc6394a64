/**
 * PostgreSQL for the service tests. CI (.ci/run) starts a cluster and exports WATCHNEXT_TEST_PG;
 * under CI=true a missing URL fails the tests (they never skip there). Locally, without the
 * variable, scripts/start-test-postgres.sh starts a throwaway cluster for this test file. Each call
 * of testDatabase() gets its own fresh database in that cluster; stopStartedCluster() (in afterAll)
 * stops a cluster the file started.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";

const script = fileURLToPath(new URL("../../scripts/start-test-postgres.sh", import.meta.url));
let started: { url: string; dir: string } | null = null;

function clusterUrl(): string {
  const env = process.env.WATCHNEXT_TEST_PG;
  if (env) return env;
  if (process.env.CI === "true") {
    throw new Error(
      "WATCHNEXT_TEST_PG is not set: under CI the PostgreSQL tests must run (.ci/run starts a cluster and exports it)",
    );
  }
  if (!started) {
    let stderr = "";
    try {
      const r = spawnSync("bash", [script], { encoding: "utf8" });
      if (r.status !== 0)
        throw Object.assign(new Error("start-test-postgres.sh failed"), { stderr: r.stderr });
      const url = r.stdout.trim().split("\n").pop() as string;
      const dir = /cluster in (\S+)/.exec(r.stderr)?.[1] ?? "";
      started = { url, dir };
    } catch (error) {
      stderr = String((error as { stderr?: string }).stderr ?? error);
      throw new Error(
        `cannot start a test PostgreSQL (set WATCHNEXT_TEST_PG or install postgresql): ${stderr}`,
      );
    }
  }
  return started.url;
}

/** A fresh database; drop() removes it (connections must be closed first). */
export async function testDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = clusterUrl();
  const name = `wn_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Stops the cluster this process started (none when WATCHNEXT_TEST_PG was given); call in afterAll. */
export function stopStartedCluster(): void {
  if (started?.dir) spawnSync("bash", [script, "stop", started.dir]);
  started = null;
}
