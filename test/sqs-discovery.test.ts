import assert from "node:assert/strict";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { retryThrottled } from "../lib/aws-retry.ts";
import type { UserError } from "../lib/errors.ts";
import { catalogOrigin, fetchCatalogRegion, normalizeCatalogUrl, parseNavigatorUrl, quilt3ConfigPath } from "../lib/catalog-config.ts";
import { assertConfigWritable, formatConfig, parseConfig, writeConfig, type SqsConfig } from "../lib/config-file.ts";
import { explainAwsError } from "../lib/request-errors.ts";
import { createPrompter } from "../lib/prompt.ts";
import { findQuiltStack, normalizeHost, queueFromStack, type CloudFormationApi, type StackInfo } from "../lib/quilt-stack.ts";
import { serveCatalog } from "./sqs-moto-fixtures.ts";

function stack(name: string, outputs: Record<string, string>, status = "CREATE_COMPLETE"): StackInfo {
  return { name, id: `id-${name}`, status, outputs };
}

function pagedApi(pages: StackInfo[][]): CloudFormationApi & { calls: number } {
  const api = {
    calls: 0,
    async describeStacksPage(token?: string) {
      api.calls++;
      const index = token ? Number(token) : 0;
      return { stacks: pages[index] ?? [], ...(index + 1 < pages.length ? { nextToken: String(index + 1) } : {}) };
    },
    async describeStack() {
      return undefined;
    },
  };
  return api;
}

describe("findQuiltStack", () => {
  const quilt = stack("quilt", { QuiltWebHost: "Quilt.Example.com/", PackagerQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/pq" });

  it("pages through every stack and matches the host whatever the scheme, case or trailing slash", async () => {
    const api = pagedApi([[stack("a", {})], [stack("b", { QuiltWebHost: "other.example.com" })], [quilt]]);
    const found = await findQuiltStack(api, "http://quilt.example.COM/", "us-east-1");
    assert.equal(found.name, "quilt");
    assert.equal(found.pages, 3);
    assert.equal(api.calls, 3);
  });

  it("ignores deleted stacks", async () => {
    const api = pagedApi([[stack("old", { QuiltWebHost: "quilt.example.com" }, "DELETE_COMPLETE"), quilt]]);
    assert.equal((await findQuiltStack(api, "https://quilt.example.com", "us-east-1")).name, "quilt");
  });

  it("ignores stacks being deleted and prefers a live stack over ones whose deletion failed, naming those", async () => {
    const deleting = stack("quilt-old", { QuiltWebHost: "quilt.example.com" }, "DELETE_IN_PROGRESS");
    const failed = stack("quilt-broken", { QuiltWebHost: "quilt.example.com" }, "DELETE_FAILED");
    const found = await findQuiltStack(pagedApi([[deleting, failed, quilt]]), "https://quilt.example.com", "us-east-1");
    assert.equal(found.name, "quilt");
    assert.deepEqual(found.others.map((s) => s.name), ["quilt-broken"]);
    const onlyFailed = await findQuiltStack(pagedApi([[deleting, failed]]), "https://quilt.example.com", "us-east-1");
    assert.equal(onlyFailed.name, "quilt-broken");
    await assert.rejects(findQuiltStack(pagedApi([[deleting]]), "https://quilt.example.com", "us-east-1"), /No CloudFormation stack/);
  });

  it("lists what it found when nothing or several stacks match", async () => {
    await assert.rejects(findQuiltStack(pagedApi([[stack("b", { QuiltWebHost: "other.example.com" })]]), "https://quilt.example.com", "us-east-1"), /QuiltWebHost = quilt\.example\.com\. Quilt stacks there: b → other\.example\.com/);
    await assert.rejects(findQuiltStack(pagedApi([[quilt, stack("quilt2", { QuiltWebHost: "https://quilt.example.com" })]]), "https://quilt.example.com", "us-east-1"), /2 stacks .*quilt \(CREATE_COMPLETE\), quilt2/);
  });

  it("takes the queue from PackagerQueueUrl, PackagerQueueArn or PackagerQueue, URL or ARN", () => {
    assert.equal(queueFromStack(quilt).output, "PackagerQueueUrl");
    const arnOnly = queueFromStack(stack("s", { PackagerQueueArn: "arn:aws:sqs:eu-west-1:123456789012:pq" }));
    assert.equal(arnOnly.queue.url, "https://sqs.eu-west-1.amazonaws.com/123456789012/pq");
    const legacyUrl = queueFromStack(stack("s", { PackagerQueue: "https://sqs.eu-west-1.amazonaws.com/123456789012/pq" }));
    assert.equal(legacyUrl.queue.arn, "arn:aws:sqs:eu-west-1:123456789012:pq");
    assert.throws(() => queueFromStack(stack("s", { QuiltWebHost: "h" })), /none of the outputs PackagerQueueUrl, PackagerQueueArn, PackagerQueue/);
  });

  it("normalises hosts", () => {
    assert.equal(normalizeHost("HTTPS://Quilt.Example.com:8443/path/"), "quilt.example.com:8443");
    assert.equal(normalizeHost("quilt.example.com/"), "quilt.example.com");
  });
});

describe("retryThrottled", () => {
  it("retries throttling and gives up on other errors at once", async () => {
    let calls = 0;
    const throttle = Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: {} });
    const value = await retryThrottled(async () => (++calls < 3 ? Promise.reject(throttle) : "ok"), { sleep: async () => undefined });
    assert.equal(value, "ok");
    assert.equal(calls, 3);
    calls = 0;
    const denied = Object.assign(new Error("no"), { name: "AccessDenied", $metadata: {} });
    await assert.rejects(retryThrottled(async () => (calls++, Promise.reject(denied)), { sleep: async () => undefined }), /no/);
    assert.equal(calls, 1);
  });
});

describe("catalog configuration", () => {
  it("reads navigator_url from quilt3's config.yml under XDG_DATA_HOME", () => {
    assert.equal(quilt3ConfigPath({ HOME: "/h", XDG_DATA_HOME: "/x" }, "linux"), "/x/Quilt/config.yml");
    assert.equal(quilt3ConfigPath({ HOME: "/h" }, "linux"), "/h/.local/share/Quilt/config.yml");
    assert.equal(parseNavigatorUrl("default_local_registry: x\nnavigator_url: 'https://quilt.example.com'  # set by quilt3\n"), "https://quilt.example.com");
    assert.equal(parseNavigatorUrl("navigator_url: null\n"), undefined);
    assert.equal(normalizeCatalogUrl("quilt.example.com/"), "https://quilt.example.com");
  });

  it("gets the region from <catalog>/config.json, with clear errors on non-JSON answers and time-outs", async () => {
    const good = await serveCatalog(JSON.stringify({ region: "eu-west-2" }));
    const html = await serveCatalog("<html>login</html>", "text/html");
    try {
      assert.equal(await fetchCatalogRegion(good.url), "eu-west-2");
      await assert.rejects(fetchCatalogRegion(html.url), (e: UserError) => /did not answer JSON/.test(e.message) && /--region/.test(e.hint ?? ""));
      const hanging = (() => new Promise<Response>((_, reject) => setTimeout(() => reject(Object.assign(new Error("t"), { name: "TimeoutError" })), 10))) as unknown as typeof fetch;
      await assert.rejects(fetchCatalogRegion("https://slow.example.com", 50, hanging), /no answer within 0.05 s/);
    } finally {
      await good.close();
      await html.close();
    }
  });
});

describe("catalog URL and config.json limits", () => {
  it("uses the catalog's origin and says what was left out", () => {
    assert.deepEqual(catalogOrigin("https://quilt.example.com/b/bucket/tree/x?tab=1"), { url: "https://quilt.example.com", dropped: "/b/bucket/tree/x?tab=1" });
    assert.deepEqual(catalogOrigin("Quilt.Example.com:8443/"), { url: "https://quilt.example.com:8443" });
    assert.equal(normalizeCatalogUrl("http://127.0.0.1:9000/b/x"), "http://127.0.0.1:9000");
  });

  it("stops reading a config.json over 1 MB, and holds the time-out for a body that never ends", async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      if (req.url === "/huge/config.json") {
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (res.write(chunk));
          res.once("drain", pump);
        };
        pump();
      } else {
        res.write("{");
        const timer = setInterval(() => res.write(" "), 50);
        res.on("close", () => clearInterval(timer));
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      let started = Date.now();
      await assert.rejects(fetchCatalogRegion(`${base}/huge`, 5_000), /answered more than 1 MB/);
      assert.ok(Date.now() - started < 4_000);
      started = Date.now();
      await assert.rejects(fetchCatalogRegion(`${base}/drip`, 500), /no answer within 0.5 s/);
      assert.ok(Date.now() - started < 2_000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("explains a redirect loop and an unknown host with what to do", async () => {
    const server = createServer((req, res) => {
      res.writeHead(302, { location: "/config.json" });
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      await assert.rejects(
        fetchCatalogRegion(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        (e: UserError) => /redirects in a loop/.test(e.message) && /--region/.test(e.hint ?? ""),
      );
    } finally {
      server.close();
    }
    await assert.rejects(fetchCatalogRegion("http://no-such-host.invalid", 5_000), (e: UserError) => e.name === "UserError" && /no-such-host\.invalid does not resolve/.test(e.message));
  });
});

describe("explainAwsError", () => {
  it("sorts real SDK network and parse failures into errors that say what to do", async () => {
    const credentials = { accessKeyId: "a", secretAccessKey: "b" };
    const failure = (client: CloudFormationClient) => client.send(new DescribeStacksCommand({})).then(() => assert.fail("no error"), (e: unknown) => e);
    const dns = explainAwsError(await failure(new CloudFormationClient({ region: "xx-foo-9", credentials, maxAttempts: 1 })), "xx-foo-9") as UserError;
    assert.equal(dns.name, "UserError");
    assert.match(dns.message, /Could not reach AWS in xx-foo-9: the name cloudformation\.xx-foo-9\.amazonaws\.com does not resolve/);
    assert.match(dns.hint ?? "", /xx-foo-9 is a real AWS region/);
    const portal = createServer((req, res) => {
      res.writeHead(req.method === "POST" ? 200 : 404, { "content-type": "text/html" });
      res.end("<html><body>captive portal");
    });
    await new Promise<void>((r) => portal.listen(0, "127.0.0.1", r));
    const empty = await serveCatalog("{}");
    try {
      const endpoint = `http://127.0.0.1:${(portal.address() as AddressInfo).port}`;
      const parse = explainAwsError(await failure(new CloudFormationClient({ region: "us-east-1", credentials, maxAttempts: 1, endpoint })), "us-east-1") as UserError;
      assert.match(parse.message, /Could not reach AWS in us-east-1: the answer \(HTTP 200, text\/html\) is not an AWS API answer/);
      assert.match(parse.hint ?? "", /proxy/);
      const notFound = explainAwsError(await failure(new CloudFormationClient({ region: "us-east-1", credentials, maxAttempts: 1, endpoint: empty.url })), "us-east-1") as UserError;
      assert.match(notFound.message, /the answer \(HTTP 404\) is not an AWS API answer/);
    } finally {
      portal.close();
      await empty.close();
    }
    const other = new Error("something else");
    assert.equal(explainAwsError(other), other);
  });
});

describe("config file path", () => {
  it("refuses an empty path, a directory, a missing parent and a parent that is a file, before anything changes", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cfgpath-"));
    try {
      await writeFile(join(dir, "file"), "x");
      const cases: Array<[string, RegExp]> = [
        ["", /the path is empty/],
        ["  ", /the path is empty/],
        [dir, /it is a directory/],
        [join(dir, "missing", "config.toml"), /its directory .*missing does not exist/],
        [join(dir, "file", "config.toml"), /is not a directory/],
      ];
      for (const [path, why] of cases) {
        await assert.rejects(assertConfigWritable(path), (e: UserError) => e.name === "UserError" && why.test(e.message) && /nothing was changed/.test(e.message) && /--config/.test(e.hint ?? ""), path);
      }
      await assertConfigWritable(join(dir, "config.toml"));
      await assertConfigWritable(join(dir, "file"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("config.toml", () => {
  const config: SqsConfig = {
    sqs: { queue_url: "https://sqs.us-east-1.amazonaws.com/123456789012/q", queue_arn: "arn:aws:sqs:us-east-1:123456789012:q", region: "us-east-1" },
    stack: { name: 'odd "name" \\ with\nnewline', catalog_url: "https://quilt.example.com", account_id: "123456789012" },
    roles: { updated: ["TowerForge-a-FargateRole"] },
  };

  it("escapes values and reads back what it wrote", () => {
    assert.deepEqual(parseConfig(formatConfig(config)), config);
  });

  it("names the line of a syntax error and the key that is missing", () => {
    assert.throws(() => parseConfig('[sqs]\nqueue_url = "x\n', "c.toml"), /c\.toml is not valid TOML \(line 2/);
    assert.throws(() => parseConfig(formatConfig(config).replace(/queue_arn = .*\n/, ""), "c.toml"), /missing key sqs\.queue_arn/);
    assert.throws(() => parseConfig("[sqs]\n", "c.toml"), /missing section \[stack\]/);
  });

  it("refuses a region that is not one, or that contradicts the queue URL, naming the key", () => {
    const withRegion = (region: string) => formatConfig({ ...config, sqs: { ...config.sqs, region } });
    assert.throws(() => parseConfig(withRegion("not-a-region"), "c.toml"), /c\.toml: invalid key sqs\.region: "not-a-region" is not a region/);
    assert.throws(
      () => parseConfig(withRegion("eu-west-1"), "c.toml"),
      (e: UserError) => /key sqs\.region = "eu-west-1" contradicts sqs\.queue_url, which is in us-east-1/.test(e.message) && /sqs\.region = "us-east-1"/.test(e.hint ?? ""),
    );
    assert.throws(() => parseConfig(formatConfig({ ...config, sqs: { ...config.sqs, queue_url: "not a url" } }), "c.toml"), /invalid key sqs\.queue_url/);
    const emulator = { ...config, sqs: { ...config.sqs, queue_url: "http://localhost:4566/000000000000/q", region: "eu-west-1" } };
    assert.equal(parseConfig(formatConfig(emulator)).sqs.region, "eu-west-1");
  });

  it("writes atomically and leaves no temporary file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cfg-"));
    const path = join(dir, "config.toml");
    await writeFile(path, "old");
    assert.equal(await writeConfig(config, path), true);
    assert.equal(await writeConfig(config, path), false);
    assert.deepEqual(await readdir(dir), ["config.toml"]);
    assert.deepEqual(parseConfig(await readFile(path, "utf8")), config);
  });
});

describe("createPrompter", () => {
  it("gives each piped line to the next question and fails clearly when input ends", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    input.end("\nhttps://quilt.example.com\nn\n");
    const prompter = createPrompter(input, output, "use --yes");
    assert.equal(await prompter.ask("Profile", "default"), "default");
    assert.equal(await prompter.ask("Catalog"), "https://quilt.example.com");
    assert.equal(await prompter.confirm("Grant?"), false);
    await assert.rejects(prompter.ask("More"), /input ended/);
    prompter.close();
  });
});

describe("config.toml.example", () => {
  it("has exactly the sections and keys setup-sqs writes", async () => {
    const example = parseConfig(await readFile(new URL("../config.toml.example", import.meta.url), "utf8"), "config.toml.example");
    const written = parseConfig(formatConfig({ ...example }));
    const keys = (c: SqsConfig) => Object.entries(c).map(([section, table]) => `${section}: ${Object.keys(table).join(",")}`);
    assert.deepEqual(keys(example), keys(written));
    assert.deepEqual(keys(example), ["sqs: queue_url,queue_arn,region,kms_key_arn", "stack: name,catalog_url,account_id", "roles: updated"]);
    const stripComments = (text: string) => text.split("\n").filter((l) => !l.startsWith("#") || l.startsWith("# Written")).join("\n");
    assert.equal(stripComments(await readFile(new URL("../config.toml.example", import.meta.url), "utf8")), formatConfig(example).replace(/\n$/, ""));
  });
});

describe("main() imported in-process", () => {
  it("setup-sqs and check-sqs return exit codes and print through the given streams", async () => {
    const { main: setupMain } = await import("../setup-sqs.ts");
    const { main: checkMain } = await import("../check-sqs.ts");
    const home = await mkdtemp(join(tmpdir(), "main-"));
    const err = new PassThrough();
    const out = new PassThrough();
    let text = "";
    err.on("data", (c: Buffer) => (text += c.toString()));
    try {
      const env = { HOME: home, XDG_DATA_HOME: join(home, "xdg"), PATH: "/nonexistent", NO_COLOR: "1" };
      const input = new PassThrough();
      input.end();
      assert.equal(await setupMain(["--yes", "--region", "us-east-1", "--config", join(home, "c.toml")], { input, output: { out, err }, env }), 1);
      assert.match(text, /No catalog URL/);
      assert.equal(await setupMain(["--catalogue", "x"], { input, output: { out, err }, env }), 1);
      assert.match(text, /Unknown argument: catalogue/);
      assert.equal(await checkMain(["--config", join(home, "none.toml")], { output: { out, err }, env }), 1);
      assert.match(text, /No configuration at/);
    } finally {
      process.exitCode = undefined;
      await rm(home, { recursive: true, force: true });
    }
  });
});
