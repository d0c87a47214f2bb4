import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UserError } from "../lib/errors.ts";
import { parseQueueAddress, resolveQueueRegion } from "../lib/queue-address.ts";

describe("parseQueueAddress", () => {
  const cases: Array<[string, { region?: string; arn?: string; url?: string; fifo?: boolean }]> = [
    ["https://sqs.us-east-1.amazonaws.com/123456789012/q", { region: "us-east-1", arn: "arn:aws:sqs:us-east-1:123456789012:q" }],
    ["https://sqs.eu-west-2.amazonaws.com/123456789012/q/", { region: "eu-west-2", url: "https://sqs.eu-west-2.amazonaws.com/123456789012/q" }],
    ["https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", { region: "cn-north-1", arn: "arn:aws-cn:sqs:cn-north-1:123456789012:q" }],
    ["https://sqs.us-gov-west-1.amazonaws.com/123456789012/q", { region: "us-gov-west-1", arn: "arn:aws-us-gov:sqs:us-gov-west-1:123456789012:q" }],
    ["https://sqs-fips.us-east-2.amazonaws.com/123456789012/q", { region: "us-east-2" }],
    ["https://us-west-2.queue.amazonaws.com/123456789012/q", { region: "us-west-2" }],
    ["https://queue.amazonaws.com/123456789012/q", { region: "us-east-1" }],
    ["https://vpce-0abc-xyz.sqs.ap-southeast-2.vpce.amazonaws.com/123456789012/q", { region: "ap-southeast-2" }],
    ["https://sqs.eu-central-1.api.aws/123456789012/q", { region: "eu-central-1" }],
    ["http://sqs.us-east-1.localhost:4566/000000000000/q", { region: "us-east-1" }],
    ["http://127.0.0.1:5000/123456789012/q", { region: undefined }],
    ["https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo", { fifo: true }],
    [
      "arn:aws:sqs:eu-west-1:123456789012:quilt-PackagerQueue-ABC",
      { region: "eu-west-1", url: "https://sqs.eu-west-1.amazonaws.com/123456789012/quilt-PackagerQueue-ABC" },
    ],
    ["arn:aws-cn:sqs:cn-northwest-1:123456789012:q", { region: "cn-northwest-1", url: "https://sqs.cn-northwest-1.amazonaws.com.cn/123456789012/q" }],
  ];
  for (const [input, expected] of cases) {
    it(input, () => {
      const q = parseQueueAddress(input);
      for (const [key, value] of Object.entries(expected)) assert.equal(q[key as keyof typeof q], value, key);
    });
  }

  for (const bad of [
    "",
    "not a queue",
    "ftp://sqs.us-east-1.amazonaws.com/123456789012/q",
    "https://sqs.us-east-1.amazonaws.com/q",
    "https://sqs.us-east-1.amazonaws.com/123456789012/q?x=1",
    "https://sqs.us-east-1.amazonaws.com/12345/q",
    "https://sqs.us-east-1.amazonaws.com/123456789012/bad name",
    "arn:aws:sqs:us-east-1:123:q",
    "arn:aws:s3:::bucket",
    "arn:aws-cn:sqs:us-east-1:123456789012:q",
    "arn:aws:sqs:cn-north-1:123456789012:q",
  ]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseQueueAddress(bad), UserError));
  }
});

describe("resolveQueueRegion", () => {
  const aws = parseQueueAddress("https://sqs.eu-west-1.amazonaws.com/123456789012/q");
  const local = parseQueueAddress("http://127.0.0.1:5000/123456789012/q");

  it("takes the queue's own region", () => assert.equal(resolveQueueRegion(aws), "eu-west-1"));
  it("accepts an override that agrees", () => assert.equal(resolveQueueRegion(aws, "eu-west-1"), "eu-west-1"));
  it("refuses an override that contradicts the queue", () => {
    assert.throws(() => resolveQueueRegion(aws, "us-east-1"), /contradicts the queue, which is in eu-west-1/);
  });
  it("does not fall back to us-east-1 when the queue does not say", () => {
    assert.throws(() => resolveQueueRegion(local), /does not say its region/);
  });
  it("uses the override, then AWS_REGION, for URLs without a region", () => {
    assert.equal(resolveQueueRegion(local, "ap-south-1", "us-west-2"), "ap-south-1");
    assert.equal(resolveQueueRegion(local, undefined, "us-west-2"), "us-west-2");
  });
  it("refuses a malformed region", () => assert.throws(() => resolveQueueRegion(local, "Europe"), /Invalid region/));
});
