import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkAgainst, checkValue, loadSchemas, type Schemas } from "../standins/openapi-schema.ts";

const SPEC = join(fileURLToPath(new URL("../", import.meta.url)), "fixtures/seqera/seqera-api-1.181.0.yaml");
const spec = loadSchemas(SPEC);

describe("the OpenAPI schema checker on the Seqera spec", () => {
  it("accepts a full launch request", () => {
    const launch = {
      computeEnvId: "ce1", pipeline: "https://github.com/o/r", revision: "main", workDir: "s3://b/w", configProfiles: ["awsbatch"],
      paramsText: "outdir: s3://b/o\n", postRunScript: "curl x | bash", pullLatest: true, resume: false, headJobCpus: 2, labelIds: [1, 2], syntaxParser: null,
    };
    assert.deepEqual(checkAgainst({ launch }, "SubmitWorkflowLaunchRequest", spec), []);
  });

  it("names unknown properties, wrong types, bad enums and out-of-range integers", () => {
    const problems = checkAgainst(
      { launch: { computeEnv: "x", configProfiles: "awsbatch", pullLatest: "yes", headJobCpus: 2 ** 40, syntaxParser: "v3", labelIds: [1.5] } },
      "SubmitWorkflowLaunchRequest",
      spec,
    );
    assert.deepEqual(problems.sort(), [
      "$.launch.computeEnv: unknown property",
      "$.launch.configProfiles: expected an array, got string \"awsbatch\"",
      "$.launch.headJobCpus: 1099511627776 is out of int32 range",
      "$.launch.labelIds[0]: expected an integer, got number 1.5",
      "$.launch.pullLatest: expected a boolean, got string \"yes\"",
      "$.launch.syntaxParser: \"v3\" is not one of \"v1\", \"v2\"",
    ]);
  });

  it("null only where nullable; an array where an object is expected", () => {
    assert.deepEqual(checkAgainst({ launch: { outputDir: null } }, "SubmitWorkflowLaunchRequest", spec), []);
    assert.deepEqual(checkAgainst({ launch: { pipeline: null } }, "SubmitWorkflowLaunchRequest", spec), ["$.launch.pipeline: null is not allowed"]);
    assert.deepEqual(checkAgainst([], "SubmitWorkflowLaunchRequest", spec), ["$: expected an object, got an array"]);
  });

  it("required, allOf, additionalProperties schemas and $ref chains", () => {
    const schemas: Schemas = {
      Base: { type: "object", required: ["id"], properties: { id: { type: "string" } } },
      Alias: { $ref: "#/components/schemas/Base" },
      Child: { allOf: [{ $ref: "#/components/schemas/Alias" }, { properties: { n: { type: "number" } } }] },
      Map: { type: "object", additionalProperties: { type: "integer" } },
    };
    assert.deepEqual(checkAgainst({ n: 1 }, "Child", schemas), ["$.id: required"]);
    assert.deepEqual(checkAgainst({ id: "a", n: 1, x: 1 }, "Child", schemas), ["$.x: unknown property"]);
    assert.deepEqual(checkValue({ a: 1, b: "2" }, { $ref: "#/components/schemas/Map" }, schemas), ["$.b: expected an integer, got string \"2\""]);
    assert.throws(() => checkAgainst({}, "Missing", schemas), /no schema Missing/);
  });
});
