import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { createSqsClient, endpointOverride } from "../lib/aws-clients.ts";

describe("AWS clients", () => {
  it("give up on an endpoint that accepts the connection and never answers", { timeout: 30_000 }, async () => {
    const server = createServer(() => {
      // never answers
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const env = { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y", AWS_EC2_METADATA_DISABLED: "true" });
    const sqs = createSqsClient({ region: "us-east-1", env, requestTimeoutMs: 300 });
    const started = Date.now();
    try {
      await assert.rejects(sqs.send(new GetQueueAttributesCommand({ QueueUrl: `${endpoint}/123456789012/q`, AttributeNames: ["All"] })));
      assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
    } finally {
      sqs.destroy();
      server.closeAllConnections();
      server.close();
    }
  });

  it("take the service's own endpoint override before the general one", () => {
    assert.equal(endpointOverride("SQS", { AWS_ENDPOINT_URL: "http://a", AWS_ENDPOINT_URL_SQS: "http://b" }), "http://b");
    assert.equal(endpointOverride("S3", { AWS_ENDPOINT_URL: "http://a" }), "http://a");
    assert.equal(endpointOverride("STS", {}), undefined);
  });
});

describe("classifyQueueError", () => {
  it("sorts the SDK's own SQS exceptions, KMS ones included", async () => {
    const { KmsAccessDenied, KmsDisabled, QueueDoesNotExist } = await import("@aws-sdk/client-sqs");
    const { classifyQueueError } = await import("../lib/queue-details.ts");
    const meta = { message: "x", $metadata: {} };
    assert.equal(classifyQueueError(new KmsAccessDenied(meta)), "kms");
    assert.equal(classifyQueueError(new KmsDisabled(meta)), "kms");
    assert.equal(classifyQueueError(new QueueDoesNotExist(meta)), "missing");
    assert.equal(classifyQueueError(Object.assign(new Error("no"), { name: "AccessDenied", $metadata: {} })), "denied");
    assert.equal(classifyQueueError(new Error("other")), undefined);
  });
});
