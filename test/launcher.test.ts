// Runs the real launcher (scripts/post-run-sqs.sh) with bash against a local HTTP server that plays
// both GitHub (raw files) and the Node.js download mirror.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  accessSync,
  chmodSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { UserError } from "../lib/errors.ts";
import { DEFAULT_REPO, POST_RUN_SCRIPT_LIMIT_BYTES, postRunLine } from "../lib/post-run-line.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const LAUNCHER = join(ROOT, "scripts", "post-run-sqs.sh");
const LAUNCHER_TEXT = readFileSync(LAUNCHER, "utf8");
const BASH = which("bash");
const NODE_VERSION = pinnedNodeVersion();
const NODE_PLATFORM = `linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
const SECRET = "tok-3f9a1c-do-not-print";

const BUNDLE_ROUTE = "/gh/dist/post_run_sqs.js";
const MIRROR_ROUTE = "/nodejs";

/** The absolute path of `tool` on this process's PATH; throws when it is not there. */
function which(tool: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir || ".", tool);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return resolve(candidate);
    } catch {
      // not in this directory
    }
  }
  throw new Error(`${tool} is not on PATH`);
}

function pinnedNodeVersion(): string {
  const match = /^readonly DEFAULT_NODE_VERSION="(v\d+\.\d+\.\d+)"$/m.exec(LAUNCHER_TEXT);
  assert.ok(match, "the launcher declares DEFAULT_NODE_VERSION");
  return match[1]!;
}

function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * A bundle that records what it was given in $MARKER, then exits with $EXIT_CODE (or hangs with $HANG).
 * An ES module, like the real one (esbuild format esm).
 */
const MARKER_BUNDLE = `#!/usr/bin/env node
import { readFileSync, writeFileSync } from "node:fs";
writeFileSync(process.env.MARKER, JSON.stringify({
  argv: process.argv.slice(2),
  execPath: process.execPath,
  workflowId: process.env.TOWER_WORKFLOW_ID ?? null,
  viaDownloadedNode: process.env.VIA_DOWNLOADED_NODE ?? null,
  pid: process.pid,
  stdin: process.env.READ_STDIN ? readFileSync(0, "utf8") : null,
}));
if (process.env.HANG) setInterval(() => {}, 1000);
else process.exitCode = Number(process.env.EXIT_CODE ?? 0);
`;

// ---- the local server -------------------------------------------------------------------------

let server: Server;
let origin = "";
let routes = new Map<string, Buffer>();
let requests: string[] = [];

/** Paths the server answers with headers and one byte, then nothing more (a stalled download). */
const stalled = new Set<string>();

function serve(files: Record<string, Buffer | string>, stall: string[] = []): void {
  routes = new Map(Object.entries(files).map(([path, body]) => [path, Buffer.from(body)]));
  requests = [];
  stalled.clear();
  for (const path of stall) stalled.add(path);
}

function bundleFiles(bundle: Buffer | string, checksumOf: Buffer | string = bundle): Record<string, Buffer | string> {
  return {
    [BUNDLE_ROUTE]: bundle,
    [`${BUNDLE_ROUTE}.sha256`]: `${sha256(checksumOf)}  post_run_sqs.js\n`,
  };
}

// ---- scratch space, the real bundle and a Node.js "official build" -----------------------------

let scratch = "";
/** Parent of every run's TMPDIR: its package.json says CommonJS, which must not stop the ESM bundle. */
let tmpRoot = "";

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), "launcher-test-"));
  tmpRoot = join(scratch, "commonjs-project");
  mkdirSync(tmpRoot);
  writeFileSync(join(tmpRoot, "package.json"), '{ "type": "commonjs" }\n');
  server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push(path);
    if (stalled.has(path)) {
      res.writeHead(200, { "content-length": 1_000_000 }).write("x");
      return;
    }
    const body = routes.get(path);
    if (!body) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  rmSync(scratch, { recursive: true, force: true });
});

/** dist/ as built by `npm run build`; built into scratch space when dist/ has not been built. */
let realBundle: { js: Buffer; sha256: Buffer } | undefined;
function getRealBundle(): { js: Buffer; sha256: Buffer } {
  if (realBundle) return realBundle;
  let js = join(ROOT, "dist", "post_run_sqs.js");
  if (!existsSync(js) || !existsSync(`${js}.sha256`)) {
    js = join(scratch, "dist", "post_run_sqs.js");
    execFileSync(process.execPath, ["build.mjs", "--outfile", js], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  }
  realBundle = { js: readFileSync(js), sha256: readFileSync(`${js}.sha256`) };
  return realBundle;
}

/** Pack `bin/node` (made by `makeBin`) the way nodejs.org lays out its builds; cached per key. */
const nodeBuilds = new Map<string, Buffer>();
function nodeBuild(version: string, ext: "tar.gz" | "tar.xz", makeBin: (path: string) => void): { name: string; data: Buffer } {
  const top = `node-${version}-${NODE_PLATFORM}`;
  const name = `${top}.${ext}`;
  let data = nodeBuilds.get(name);
  if (!data) {
    const stage = mkdtempSync(join(scratch, "build-"));
    mkdirSync(join(stage, top, "bin"), { recursive: true });
    makeBin(join(stage, top, "bin", "node"));
    const compressor = ext === "tar.gz" ? "gzip -1" : "xz -0 -T2";
    execFileSync("tar", ["--use-compress-program", compressor, "-cf", join(stage, name), "-C", stage, top]);
    data = readFileSync(join(stage, name));
    nodeBuilds.set(name, data);
  }
  return { name, data };
}

/** This machine's node binary, packed as an official build of the pinned version. */
function thisNodeBuild(): { name: string; data: Buffer } {
  return nodeBuild(NODE_VERSION, "tar.gz", (path) => {
    copyFileSync(process.execPath, path);
    chmodSync(path, 0o755);
  });
}

function shasums(version: string, file: string, digest: string): string {
  return [
    `${"0".repeat(64)}  node-${version}-darwin-arm64.tar.gz`,
    `${digest}  ${file}`,
    `${"f".repeat(64)}  node-${version}-win-x64.zip`,
    "",
  ].join("\n");
}

function mirrorFiles(version: string, build: { name: string; data: Buffer }, digest = sha256(build.data)) {
  return {
    [`${MIRROR_ROUTE}/${version}/${build.name}`]: build.data,
    [`${MIRROR_ROUTE}/${version}/SHASUMS256.txt`]: shasums(version, build.name, digest),
  };
}

/** A PATH directory with the tools the launcher needs and no node, plus `extra`, less `without`. */
function toolDir(extra: string[] = [], without: string[] = []): string {
  const dir = mkdtempSync(join(scratch, "tools-"));
  const tools = ["bash", "curl", "sha256sum", "tr", "uname", "tar", "gzip", "rm", "mktemp", ...extra];
  for (const tool of tools.filter((name) => !without.includes(name))) {
    symlinkSync(which(tool), join(dir, tool));
  }
  return dir;
}

// ---- running the launcher -----------------------------------------------------------------------

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** TMPDIR of the run: must be empty once the launcher is done. */
  tmp: string;
  marker: string;
}

interface RunOptions {
  args?: string[];
  env?: Record<string, string>;
  path?: string;
  onSpawn?: (pid: number, run: Run) => void;
  /** Run this shell line with bash -c instead of `bash scripts/post-run-sqs.sh ARGS`. */
  line?: string;
}

async function runLauncher({ args = [], env = {}, path = process.env.PATH ?? "", onSpawn, line }: RunOptions = {}): Promise<Run> {
  const tmp = mkdtempSync(join(tmpRoot, "tmpdir-"));
  const marker = join(mkdtempSync(join(scratch, "marker-")), "ran.json");
  const run: Run = { code: null, stdout: "", stderr: "", tmp, marker };
  const child = spawn(BASH, line ? ["-c", line] : [LAUNCHER, ...args], {
    // A clean environment: no TOWER_* leaks in from the machine running the tests.
    env: {
      PATH: path,
      HOME: scratch,
      TMPDIR: tmp,
      MARKER: marker,
      POST_RUN_SQS_BASE_URL: `${origin}/gh`,
      POST_RUN_SQS_NODE_MIRROR: `${origin}${MIRROR_ROUTE}`,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (run.stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (run.stderr += chunk));
  onSpawn?.(child.pid!, run);
  run.code = await new Promise<number | null>((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => done(code));
  });
  return run;
}

function assertNoLeftovers(run: Run): void {
  assert.deepEqual(readdirSync(run.tmp), [], `TMPDIR is empty after the launcher; stderr:\n${run.stderr}`);
}

function assertNotRun(run: Run): void {
  assert.equal(existsSync(run.marker), false, "the bundle did not run");
}

interface Marker {
  argv: string[];
  execPath: string;
  workflowId: string | null;
  viaDownloadedNode: string | null;
  pid: number;
  stdin: string | null;
}

function markerOf(run: Run): Marker {
  assert.ok(existsSync(run.marker), `the bundle ran; stderr:\n${run.stderr}`);
  return JSON.parse(readFileSync(run.marker, "utf8"));
}

// ---- the tests ----------------------------------------------------------------------------------

describe("launcher with node on PATH", () => {
  test("runs the real bundle with --help: exit 0, usage printed", async () => {
    const { js, sha256: checksum } = getRealBundle();
    serve({ [BUNDLE_ROUTE]: js, [`${BUNDLE_ROUTE}.sha256`]: checksum });
    const run = await runLauncher({ args: ["--help"] });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Usage:/);
    assert.match(run.stdout, /--help/, "usage lists the options");
    assert.match(run.stderr, /post-run-sqs: downloading the post-run bundle from http:\/\/127\.0\.0\.1:\d+\/gh\/dist\/post_run_sqs\.js/);
    assert.match(run.stderr, /post-run-sqs: bundle verified/);
    assert.match(run.stderr, /post-run-sqs: using node v\d+\.\d+\.\d+ at \//);
    assert.ok(!requests.some((path) => path.startsWith(MIRROR_ROUTE)), "no Node.js download with a usable node");
    assertNoLeftovers(run);
  });

  test("propagates the real bundle's failure: no TOWER_* environment, exit 1", async () => {
    const { js, sha256: checksum } = getRealBundle();
    serve({ [BUNDLE_ROUTE]: js, [`${BUNDLE_ROUTE}.sha256`]: checksum });
    const run = await runLauncher();
    assert.equal(run.code, 1, run.stderr);
    assertNoLeftovers(run);
  });

  test("passes arguments, environment and exit code through, and never prints the token", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    const run = await runLauncher({
      args: ["--flag", "two words", "*", ""],
      env: { EXIT_CODE: "7", TOWER_WORKFLOW_ID: "4Bi5xBK6E2Nbhj", TOWER_ACCESS_TOKEN: SECRET },
    });
    assert.equal(run.code, 7, run.stderr);
    const seen = markerOf(run);
    assert.deepEqual(seen.argv, ["--flag", "two words", "*", ""]);
    assert.equal(seen.workflowId, "4Bi5xBK6E2Nbhj");
    assert.ok(!(run.stdout + run.stderr).includes(SECRET), "the access token is never printed");
    assertNoLeftovers(run);
  });

  test("the post-run line itself: curl piped into bash runs the bundle, whose stdin is not the script", async () => {
    const rawBase = "https://raw.githubusercontent.com/data-yaml/seqera-smoke-test/main";
    const line = postRunLine();
    assert.ok(line.includes(`${rawBase}/scripts/post-run-sqs.sh`));
    serve({ ...bundleFiles(MARKER_BUNDLE), "/gh/scripts/post-run-sqs.sh": LAUNCHER_TEXT });
    const run = await runLauncher({ line: line.replace(rawBase, `${origin}/gh`), env: { READ_STDIN: "1", EXIT_CODE: "9" } });
    assert.equal(run.code, 9, run.stderr);
    assert.equal(markerOf(run).stdin, "");
    assert.deepEqual(requests, ["/gh/scripts/post-run-sqs.sh", BUNDLE_ROUTE, `${BUNDLE_ROUTE}.sha256`]);
    assertNoLeftovers(run);
  });

  test("refuses a bundle whose checksum does not match, and does not run it", async () => {
    serve(bundleFiles(MARKER_BUNDLE, "the bundle that was published"));
    const run = await runLauncher();
    assert.equal(run.code, 4);
    assertNotRun(run);
    assert.match(run.stderr, /^ERROR: post-run-sqs: checksum mismatch for http:\/\/\S+\/dist\/post_run_sqs\.js: expected SHA-256 [0-9a-f]{64}, got [0-9a-f]{64}; the bundle was not run\. .*npm run build/m);
    assertNoLeftovers(run);
  });

  test("refuses a checksum file that holds no SHA-256", async () => {
    serve({ [BUNDLE_ROUTE]: MARKER_BUNDLE, [`${BUNDLE_ROUTE}.sha256`]: "<html>oops</html>\n" });
    const run = await runLauncher();
    assert.equal(run.code, 4);
    assertNotRun(run);
    assert.match(run.stderr, /^ERROR: post-run-sqs: the checksum file .* does not start with a SHA-256/m);
    assertNoLeftovers(run);
  });

  test("a missing bundle (404): exit 3, says what and what to do, leaves nothing behind", async () => {
    serve({});
    const run = await runLauncher();
    assert.equal(run.code, 3);
    assert.match(
      run.stderr,
      /^ERROR: post-run-sqs: could not download the post-run bundle from http:\/\/127\.0\.0\.1:\d+\/gh\/dist\/post_run_sqs\.js \(curl exit code 22\)\. Check that POST_RUN_SQS_REPO/m,
    );
    assert.ok(!requests.some((path) => path.startsWith(MIRROR_ROUTE)), "gave up before looking for Node.js");
    assertNotRun(run);
    assertNoLeftovers(run);
  });

  test("a missing checksum file (404): exit 3, the bundle is not run", async () => {
    serve({ [BUNDLE_ROUTE]: MARKER_BUNDLE });
    const run = await runLauncher();
    assert.equal(run.code, 3);
    assert.match(run.stderr, /^ERROR: post-run-sqs: could not download the bundle's checksum from \S+post_run_sqs\.js\.sha256/m);
    assertNotRun(run);
    assertNoLeftovers(run);
  });

  test("a refused connection: exit 3, clear message, leaves nothing behind", async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const run = await runLauncher({ env: { POST_RUN_SQS_BASE_URL: `http://127.0.0.1:${port}` } });
    assert.equal(run.code, 3);
    assert.match(run.stderr, /^ERROR: post-run-sqs: could not download the post-run bundle from .* \(curl exit code 7\)/m);
    assertNoLeftovers(run);
  });

  test("rejects a malformed setting before downloading anything: exit 2", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    const run = await runLauncher({ env: { POST_RUN_SQS_REF: "main; rm -rf /" } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^ERROR: post-run-sqs: POST_RUN_SQS_REF=.* is not a branch, tag or commit name/m);
    assert.deepEqual(requests, []);
    assertNoLeftovers(run);
  });

  test("verifies with shasum -a 256 where sha256sum is missing", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    const run = await runLauncher({ path: toolDir(["node", "shasum"], ["sha256sum"]) });
    assert.equal(run.code, 0, run.stderr);
    markerOf(run);
    serve(bundleFiles(MARKER_BUNDLE, "another bundle"));
    const refused = await runLauncher({ path: toolDir(["node", "shasum"], ["sha256sum"]) });
    assert.equal(refused.code, 4);
    assertNotRun(refused);
  });

  test("without sha256sum or shasum nothing can be verified: exit 5, nothing runs", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    const run = await runLauncher({ path: toolDir(["node"], ["sha256sum"]) });
    assert.equal(run.code, 5);
    assert.match(run.stderr, /^ERROR: post-run-sqs: neither sha256sum nor shasum is installed/m);
    assertNotRun(run);
    assertNoLeftovers(run);
  });

  test("refuses to pin a Node.js older than 20: exit 2", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    const run = await runLauncher({ env: { POST_RUN_SQS_NODE_VERSION: "18.20.4" } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /^ERROR: post-run-sqs: POST_RUN_SQS_NODE_VERSION='v18\.20\.4' is older than Node\.js 20/m);
    assertNotRun(run);
  });

  test("SIGTERM stops the bundle and removes the temporary directory: exit 143", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    let launcherPid = 0;
    let marker = "";
    const running = runLauncher({
      env: { HANG: "1" },
      onSpawn: (pid, run) => {
        launcherPid = pid;
        marker = run.marker;
      },
    });
    const started = Date.now();
    while (!existsSync(marker)) {
      assert.ok(Date.now() - started < 10_000, "the bundle started");
      await new Promise((done) => setTimeout(done, 50));
    }
    process.kill(launcherPid, "SIGTERM");
    const run = await running;
    assert.equal(run.code, 143, run.stderr);
    const { pid } = markerOf(run);
    assert.throws(() => process.kill(pid, 0), "the bundle's node process is gone");
    assertNoLeftovers(run);
  });
});

describe("launcher under a stalled download", () => {
  test("SIGTERM during a download stops at once: exit 143, nothing left behind", async () => {
    serve(bundleFiles(MARKER_BUNDLE), [BUNDLE_ROUTE]);
    let launcherPid = 0;
    const running = runLauncher({ onSpawn: (pid) => (launcherPid = pid) });
    const started = Date.now();
    while (!requests.includes(BUNDLE_ROUTE)) {
      assert.ok(Date.now() - started < 10_000, "the download started");
      await new Promise((done) => setTimeout(done, 50));
    }
    await new Promise((done) => setTimeout(done, 300));
    const signalled = Date.now();
    process.kill(launcherPid, "SIGTERM");
    const run = await running;
    assert.equal(run.code, 143, run.stderr);
    assert.ok(Date.now() - signalled < 5_000, `stopped after ${Date.now() - signalled} ms`);
    assertNotRun(run);
    assertNoLeftovers(run);
  });

  test("a node version written with a leading zero is read as decimal", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    const run = await runLauncher({ env: { POST_RUN_SQS_NODE_VERSION: "v08.1.0" } });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /is older than Node\.js 20/);
    assert.doesNotMatch(run.stderr, /value too great|syntax error/);
  });
});

describe("launcher without a usable node", () => {
  let noNode = "";
  before(() => {
    noNode = toolDir();
    assert.ok(!existsSync(join(noNode, "node")), "no node on the test PATH");
  });

  test("node absent: downloads the pinned official build, verifies it, runs the bundle with it", async () => {
    const build = thisNodeBuild();
    serve({ ...bundleFiles(MARKER_BUNDLE), ...mirrorFiles(NODE_VERSION, build) });
    const run = await runLauncher({ path: noNode, args: ["--x"], env: { EXIT_CODE: "3" } });
    assert.equal(run.code, 3, run.stderr);
    const seen = markerOf(run);
    assert.ok(seen.execPath.startsWith(join(run.tmp, "post-run-sqs.")), `ran with the downloaded node, not ${seen.execPath}`);
    assert.ok(seen.execPath.endsWith(`/node-${NODE_VERSION}-${NODE_PLATFORM}/bin/node`));
    assert.deepEqual(seen.argv, ["--x"]);
    assert.ok(requests.includes(`${MIRROR_ROUTE}/${NODE_VERSION}/SHASUMS256.txt`));
    assert.ok(requests.includes(`${MIRROR_ROUTE}/${NODE_VERSION}/${build.name}`), "took the .tar.gz where xz is missing");
    assert.match(run.stderr, /post-run-sqs: node is not on PATH/);
    assert.match(run.stderr, new RegExp(`post-run-sqs: downloading Node.js ${NODE_VERSION} \\(${NODE_PLATFORM}\\) from http://127\\.0\\.0\\.1:\\d+/nodejs/`));
    assert.match(run.stderr, /post-run-sqs: using node v\d+\.\d+\.\d+ downloaded from/);
    assertNoLeftovers(run);
  });

  test("node absent: a Node.js build that does not match SHASUMS256.txt is refused, nothing runs", async () => {
    const build = thisNodeBuild();
    serve({ ...bundleFiles(MARKER_BUNDLE), ...mirrorFiles(NODE_VERSION, build, sha256("another build")) });
    const run = await runLauncher({ path: noNode });
    assert.equal(run.code, 4);
    assertNotRun(run);
    assert.match(run.stderr, /^ERROR: post-run-sqs: checksum mismatch for \S+\.tar\.gz: expected SHA-256 [0-9a-f]{64} \(from SHASUMS256\.txt\), got [0-9a-f]{64}; Node\.js was not used/m);
    assertNoLeftovers(run);
  });

  test("node absent: SHASUMS256.txt without this build is refused, nothing runs", async () => {
    const build = thisNodeBuild();
    serve({
      ...bundleFiles(MARKER_BUNDLE),
      [`${MIRROR_ROUTE}/${NODE_VERSION}/${build.name}`]: build.data,
      [`${MIRROR_ROUTE}/${NODE_VERSION}/SHASUMS256.txt`]: shasums(NODE_VERSION, "node-other.tar.gz", sha256(build.data)),
    });
    const run = await runLauncher({ path: noNode });
    assert.equal(run.code, 4);
    assertNotRun(run);
    assert.match(run.stderr, /^ERROR: post-run-sqs: \S+SHASUMS256\.txt lists no SHA-256 for node-/m);
    assertNoLeftovers(run);
  });

  test("node absent and the Node.js download fails: exit 3, nothing runs", async () => {
    serve(bundleFiles(MARKER_BUNDLE));
    const run = await runLauncher({ path: noNode });
    assert.equal(run.code, 3);
    assertNotRun(run);
    assert.match(run.stderr, /^ERROR: post-run-sqs: could not download the Node.js checksums from .*POST_RUN_SQS_NODE_MIRROR/m);
    assertNoLeftovers(run);
  });

  test("node older than 20 on PATH triggers the download", async () => {
    const fakeNode = mkdtempSync(join(scratch, "old-node-"));
    writeFileSync(join(fakeNode, "node"), "#!/bin/sh\necho v18.0.0\n", { mode: 0o755 });
    const build = thisNodeBuild();
    serve({ ...bundleFiles(MARKER_BUNDLE), ...mirrorFiles(NODE_VERSION, build) });
    const run = await runLauncher({ path: `${fakeNode}:${noNode}` });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /post-run-sqs: node at \S+\/node is version 18, not usable \(need 20 or later\)/);
    assert.ok(markerOf(run).execPath.startsWith(join(run.tmp, "post-run-sqs.")), "ran with the downloaded node");
    assertNoLeftovers(run);
  });

  test("prefers the .tar.xz where xz is installed, and honours POST_RUN_SQS_NODE_VERSION", async () => {
    const version = "v23.4.5";
    // A tiny stand-in for the node binary: it runs this machine's node, flagging that it was used.
    const build = nodeBuild(version, "tar.xz", (path) =>
      writeFileSync(path, `#!/bin/sh\nVIA_DOWNLOADED_NODE=${version} exec '${process.execPath}' "$@"\n`, { mode: 0o755 }),
    );
    serve({ ...bundleFiles(MARKER_BUNDLE), ...mirrorFiles(version, build) });
    const run = await runLauncher({ path: toolDir(["xz"]), env: { POST_RUN_SQS_NODE_VERSION: version } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(markerOf(run).viaDownloadedNode, version);
    assert.ok(requests.includes(`${MIRROR_ROUTE}/${version}/node-${version}-${NODE_PLATFORM}.tar.xz`));
    assertNoLeftovers(run);
  });
});

describe("the post-run line", () => {
  const readmeLine = (): string => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = /<!-- section:launcher -->([\s\S]*?)<!-- \/section:launcher -->/.exec(readme)?.[1] ?? "";
    const lines = section.split("\n").filter((line) => line.startsWith("curl ") && line.includes("post-run-sqs.sh"));
    assert.equal(lines.length, 1, "the launcher section of README.md shows one curl line");
    return lines[0]!;
  };

  test("README.md shows the line postRunLine() builds, under 1,024 bytes", () => {
    const line = readmeLine();
    assert.equal(line, postRunLine());
    assert.equal(line, postRunLine({ repo: DEFAULT_REPO, ref: "main" }));
    assert.ok(Buffer.byteLength(line) < POST_RUN_SCRIPT_LIMIT_BYTES, `${Buffer.byteLength(line)} bytes`);
  });

  test("the default repository is package.json's repository, in the launcher and in lib/post-run-line.ts", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { repository: { url: string } | string };
    const url = typeof pkg.repository === "string" ? pkg.repository : pkg.repository.url;
    const fromPackage = /github\.com[/:]([^/]+\/[^/]+?)(\.git)?$/.exec(url)?.[1];
    assert.equal(DEFAULT_REPO, fromPackage);
    assert.match(LAUNCHER_TEXT, new RegExp(`^readonly DEFAULT_REPO="${fromPackage}"$`, "m"));
    assert.match(LAUNCHER_TEXT, /^readonly DEFAULT_REF="main"$/m);
  });

  test("postRunLine sends the URL's repository and ref on to the launcher", () => {
    const line = postRunLine({ repo: "someone/fork", ref: "feature/hook-v2" });
    assert.equal(
      line,
      "curl -fsSL --retry 3 https://raw.githubusercontent.com/someone/fork/feature/hook-v2/scripts/post-run-sqs.sh" +
        " | POST_RUN_SQS_REPO=someone/fork POST_RUN_SQS_REF=feature/hook-v2 bash",
    );
    assert.equal(postRunLine({ ref: "0123abc" }).includes("/data-yaml/seqera-smoke-test/0123abc/"), true);
  });

  test("postRunLine rejects what cannot go unquoted into a URL and a shell line, and lines of 1,024 bytes or more", () => {
    for (const ref of ["main; rm -rf /", "a b", "$(id)", "../x", "x/", "/x", "a//b", "ref'", ""]) {
      assert.throws(() => postRunLine({ ref }), UserError, ref);
    }
    for (const repo of ["noslash", "a/b/c", "a b/c", "a/b;c"]) {
      assert.throws(() => postRunLine({ repo }), UserError, repo);
    }
    assert.throws(() => postRunLine({ ref: "x".repeat(900) }), /bytes; Seqera accepts less than 1024/);
  });
});

test("shellcheck finds nothing in the launcher", { skip: !shellcheckAvailable() && "shellcheck is not installed" }, () => {
  execFileSync("shellcheck", [LAUNCHER], { stdio: "pipe" });
});

function shellcheckAvailable(): boolean {
  try {
    which("shellcheck");
    return true;
  } catch {
    return false;
  }
}
