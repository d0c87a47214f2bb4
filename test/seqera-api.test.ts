import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { UserError } from "../lib/errors.ts";
import { SeqeraApi, SeqeraApiError, normaliseEndpoint } from "../lib/seqera-api.ts";
import { fetchRunDetails } from "../lib/seqera-run.ts";
import { freePort } from "../standins/moto.ts";
import { startSeqeraStandin, type SeqeraStandin } from "../standins/seqera-api.ts";

let standin: SeqeraStandin;
before(async () => {
  standin = await startSeqeraStandin();
});
after(async () => {
  await standin.close();
});

const noSleep = { sleep: async () => undefined, backoffMs: 1 };

function client(overrides: Partial<ConstructorParameters<typeof SeqeraApi>[0]> = {}) {
  return new SeqeraApi({ endpoint: standin.endpoint, token: standin.token, refreshToken: standin.refreshToken, workspaceId: standin.workspaceId, ...noSleep, ...overrides });
}

describe("SeqeraApi over HTTP against the stand-in", () => {
  it("reads a run and its launch", async () => {
    const run = standin.addRun();
    const details = await fetchRunDetails(client(), run.id);
    assert.equal(details.workflow.id, run.id);
    assert.equal(details.launch?.computeEnv?.name, "aws_batch");
    const last = standin.requestsTo(new RegExp(`^/workflow/${run.id}`)).at(-1);
    assert.equal(last?.query.workspaceId, standin.workspaceId);
    assert.equal(last?.authorization, `Bearer ${standin.token}`);
  });

  it("gives up on 429 after the bounded number of attempts, with the rate-limit hint", async () => {
    const run = standin.addRun();
    const retries: number[] = [];
    standin.failNext("GET", new RegExp(`^/workflow/${run.id}$`), 429, 10);
    await assert.rejects(client({ maxAttempts: 3, onRetry: (e) => retries.push(e.attempt) }).get(`/workflow/${run.id}`), (error: unknown) => {
      assert.ok(error instanceof SeqeraApiError);
      assert.equal(error.status, 429);
      assert.match(error.hint ?? "", /rate limit/);
      return true;
    });
    assert.deepEqual(retries, [1, 2]);
  });

  it("honours Retry-After as the delay", async () => {
    const run = standin.addRun();
    let calls = 0;
    standin.route("GET", new RegExp(`^/workflow/${run.id}/busy$`), () =>
      ++calls === 1 ? { status: 503, body: {}, headers: { "retry-after": "7" } } : { status: 200, body: { ok: true } },
    );
    const delays: number[] = [];
    const answer = await client({ onRetry: (e) => delays.push(e.delayMs) }).get<{ ok: boolean }>(`/workflow/${run.id}/busy`);
    assert.deepEqual(answer, { ok: true });
    assert.deepEqual(delays, [7000]);
  });

  it("does not retry other 4xx", async () => {
    const run = standin.addRun();
    const retries: number[] = [];
    standin.failNext("GET", new RegExp(`^/workflow/${run.id}$`), 400, 1, { message: "Bad request" });
    await assert.rejects(client({ onRetry: (e) => retries.push(e.attempt) }).get(`/workflow/${run.id}`), /HTTP 400: Bad request/);
    assert.deepEqual(retries, []);
  });

  it("connection refused: retried, then one clear error", async () => {
    const port = await freePort();
    const api = new SeqeraApi({ endpoint: `http://127.0.0.1:${port}`, token: "t", maxAttempts: 2, ...noSleep });
    await assert.rejects(api.get("/workflow/x"), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, new RegExp(`Could not reach Seqera Platform at http://127.0.0.1:${port} \\(ECONNREFUSED, 2 attempts\\)`));
      return true;
    });
  });

  it("concurrent requests that meet an expired token share one refresh", async () => {
    const run = standin.addRun();
    const api = client();
    standin.expireToken();
    const before = standin.requestsTo(/^\/oauth\/access_token$/).length;
    await fetchRunDetails(api, run.id);
    assert.equal(standin.requestsTo(/^\/oauth\/access_token$/).length, before + 1);
  });

  it("a refused refresh token gives the 401 advice, and no token in any message", async () => {
    const run = standin.addRun();
    const api = client({ refreshToken: "wrong-refresh-token" });
    const oldToken = standin.token;
    standin.expireToken();
    await assert.rejects(api.get(`/workflow/${run.id}`), (error: unknown) => {
      assert.ok(error instanceof SeqeraApiError);
      assert.equal(error.status, 401);
      const text = `${error.message} ${error.hint}`;
      for (const secret of [oldToken, standin.token, "wrong-refresh-token"]) assert.ok(!text.includes(secret));
      return true;
    });
  });

  it("an endpoint that answers HTML says to check TOWER_API_ENDPOINT", async () => {
    standin.route("GET", /^\/html$/, () => ({ status: 200, body: "<html>web app</html>" }));
    await assert.rejects(client().get("/html"), /not JSON/);
  });
});

describe("normaliseEndpoint", () => {
  it("defaults to Seqera Cloud and drops trailing slashes", () => {
    assert.equal(normaliseEndpoint(undefined), "https://api.cloud.seqera.io");
    assert.equal(normaliseEndpoint(" https://seqera.example.org/api/ "), "https://seqera.example.org/api");
  });
  it("refuses what is not an http(s) URL", () => {
    assert.throws(() => normaliseEndpoint("api.cloud.seqera.io"), UserError);
    assert.throws(() => normaliseEndpoint("ftp://x"), UserError);
  });
});

describe("SeqeraApi POST", () => {
  it("is not retried after a 502 or 503, which may mean it was carried out (no double launch)", async () => {
    let launches = 0;
    standin.route("POST", /^\/test-launch$/, () => (++launches === 1 ? { status: 502, body: { message: "Bad gateway" } } : { status: 200, body: { workflowId: "w" } }));
    await assert.rejects(client().post("/test-launch", { launch: {} }), /HTTP 502/);
    assert.equal(launches, 1);
  });
  it("is retried after a 429", async () => {
    let calls = 0;
    standin.route("POST", /^\/test-limited$/, () => (++calls === 1 ? { status: 429, body: {} } : { status: 200, body: { workflowId: "w" } }));
    assert.deepEqual(await client().post("/test-limited", {}), { workflowId: "w" });
    assert.equal(calls, 2);
  });
});

describe("SeqeraApi.inWorkspace", () => {
  it("keeps the retry reporting and sends the other workspace id", async () => {
    const run = standin.addRun();
    const retries: string[] = [];
    const personal = client({ workspaceId: undefined, onRetry: (e) => retries.push(e.path) });
    const scoped = personal.inWorkspace(standin.workspaceId);
    standin.failNext("GET", new RegExp(`^/workflow/${run.id}$`), 503);
    await scoped.get(`/workflow/${run.id}`);
    assert.deepEqual(retries, [`/workflow/${run.id}`]);
    assert.equal(standin.requestsTo(new RegExp(`^/workflow/${run.id}$`)).at(-1)?.query.workspaceId, standin.workspaceId);
  });
});
