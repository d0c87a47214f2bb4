import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** A moto server (python3 -m moto.server) on a free loopback port: a local AWS speaking real HTTP. */
export interface MotoServer {
  endpoint: string;
  port: number;
  /** Environment that points the AWS SDK (and our scripts) at this server. */
  env: Record<string, string>;
  /** Wipes all state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Starts moto; fails with a clear message when python3 or moto is missing. */
export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.env.MOTO_PYTHON || "python3", ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) => reject(new Error(`moto server exited (${code}): ${stderr}\nInstall it with: pip install 'moto[server]'`))),
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await Promise.race([fetch(`${endpoint}/moto-api/`), exited]);
      if (res.ok || res.status < 500) break;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill();
        throw error instanceof Error ? error : new Error(String(error));
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  exited.catch(() => undefined);
  return {
    endpoint,
    port,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}
