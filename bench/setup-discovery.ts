/**
 * Benchmark: setup-sqs.ts --yes end to end against moto, for worlds of growing size.
 * Counts AWS API calls from moto's request log, so the count covers every call the script makes.
 * Run: npx tsx bench/setup-discovery.ts [runs]   (default 6 runs per world; the first one grants)
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type MotoServer } from "../standins/moto.ts";
import { NEXTFLOW_POLICY } from "../lib/policy-grant.ts";
import { createFillerRoles, createFillerStacks, createQuiltStack, motoClients, putInline, runScript, scriptEnv, ASSUME_ROLE } from "../test/sqs-moto-fixtures.ts";
import { CreateRoleCommand } from "@aws-sdk/client-iam";

interface World {
  stacks: number;
  roles: number;
}

/** moto with its request log read line by line (one line per HTTP request). */
async function startCountingMoto(): Promise<{ moto: MotoServer; requests: () => number; child: ChildProcess }> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(process.env.MOTO_PYTHON || "python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] });
  let count = 0;
  let partial = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    count += lines.filter((l) => /"(POST|GET|PUT|DELETE) [^"]* HTTP\/1\.[01]"/.test(l) && !l.includes("/moto-api")).length;
  });
  for (let i = 0; ; i++) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (i > 300) throw new Error("moto did not start");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const moto: MotoServer = {
    endpoint,
    port,
    env: { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" },
    reset: async () => void (await fetch(`${endpoint}/moto-api/reset`, { method: "POST" })),
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
  return { moto, requests: () => count, child };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function benchWorld(world: World, runs: number): Promise<void> {
  const { moto, requests } = await startCountingMoto();
  const home = await mkdtemp(join(tmpdir(), "bench-setup-"));
  try {
    const clients = motoClients(moto);
    await createQuiltStack(clients, "quilt-bench", "quilt.example.com", { queueName: "packager-bench" });
    await createFillerStacks(clients, world.stacks - 1);
    await createFillerRoles(clients, world.roles - 2);
    for (const role of ["TowerForge-bench-FargateRole", "TowerForge-bench-InstanceRole"]) {
      await clients.iam.send(new CreateRoleCommand({ RoleName: role, AssumeRolePolicyDocument: ASSUME_ROLE }));
      await putInline(clients, role, NEXTFLOW_POLICY, { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "batch:*", Resource: "*" }] });
    }
    const env = scriptEnv(moto, home);
    const times: number[] = [];
    const calls: number[] = [];
    for (let i = 0; i < runs; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const before = requests();
      const start = performance.now();
      const result = await runScript("setup-sqs.ts", ["--yes", "--catalog", "https://quilt.example.com", "--region", "us-east-1"], { cwd: home, env });
      times.push((performance.now() - start) / 1000);
      if (result.code !== 0) throw new Error(`setup-sqs.ts failed:\n${result.stderr}`);
      await new Promise((r) => setTimeout(r, 300));
      calls.push(requests() - before);
    }
    const stackPages = Math.ceil(world.stacks / 50);
    const rolePages = Math.ceil(world.roles / 100);
    console.log(
      `${String(world.stacks).padStart(4)} stacks (${stackPages} pages) ${String(world.roles).padStart(4)} roles (${rolePages} pages): ` +
        `median ${median(times).toFixed(2)} s (runs: ${times.map((t) => t.toFixed(2)).join(", ")}); ` +
        `API calls: first run ${calls[0]} (grants 2 roles), later runs ${median(calls.slice(1))}`,
    );
  } finally {
    await moto.stop();
    await rm(home, { recursive: true, force: true });
  }
}

const runs = Math.max(5, Number(process.argv[2]) || 6);
console.log(`setup-sqs.ts --yes against moto, ${runs} runs per world (moto pages DescribeStacks by 50, ListRoles by 100)`);
for (const world of [{ stacks: 5, roles: 10 }, { stacks: 60, roles: 250 }, { stacks: 120, roles: 500 }]) await benchWorld(world, runs);
