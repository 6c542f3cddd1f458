import { describe, expect, it } from "vitest";
import { InterpretingValidator } from "../studio/editor/schemaValidator";
import type { Schema } from "./jsonSchema";
import { schemaErrors } from "./jsonSchema";

const valid = (schema: Schema, value: unknown) => schemaErrors(schema, value).length === 0;

// The shapes of the node-type config schemas (workflows/nodes/): a model call whose protocol
// picks one of several branches, and a join whose mode decides what else is required.
const MODEL_CALL: Schema = {
  type: "object",
  required: ["endpoint", "protocol"],
  properties: {
    endpoint: { type: "string", minLength: 1 },
    protocol: { enum: ["open_inference_v2", "http_json"] },
    inputs: {
      type: "array",
      items: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string", pattern: "^[a-z_]+$" }, shape: { type: "array", items: { type: "integer", minimum: 1 } } },
        additionalProperties: false,
      },
      uniqueItems: true,
    },
  },
  oneOf: [
    { properties: { protocol: { const: "open_inference_v2" } }, required: ["inputs"] },
    { properties: { protocol: { const: "http_json" } }, required: ["path"] },
  ],
};

const JOIN: Schema = {
  type: "object",
  properties: { mode: { enum: ["list", "reduce"] }, operation: { type: "string" } },
  allOf: [
    {
      if: { properties: { mode: { const: "reduce" } } },
      then: { required: ["operation"] },
      else: { not: { anyOf: [{ required: ["operation"] }, { required: ["expression"] }] } },
    },
  ],
  additionalProperties: false,
};

describe("schemaErrors", () => {
  it("accepts a config that matches exactly one protocol branch", () => {
    const config = { endpoint: "ihc-dab", protocol: "open_inference_v2", inputs: [{ name: "tiles", shape: [1, 3] }] };
    expect(schemaErrors(MODEL_CALL, config)).toEqual([]);
  });

  it("names the missing property and where the data breaks the schema", () => {
    const errors = schemaErrors(MODEL_CALL, { protocol: "http_json", path: "/x", inputs: [{ name: "Bad", extra: 1 }] });
    expect(errors.map((e) => [e.instancePath, e.keyword])).toEqual([
      ["", "required"],
      ["/inputs/0/name", "pattern"],
      ["/inputs/0", "additionalProperties"],
    ]);
    expect(errors[0]?.message).toBe("must have required property 'endpoint'");
  });

  it("refuses a config matching no branch or two branches of oneOf", () => {
    expect(valid(MODEL_CALL, { endpoint: "e", protocol: "http_json" })).toBe(false);
    const both: Schema = { oneOf: [{ type: "integer" }, { type: "number" }] };
    expect(valid(both, 2)).toBe(false);
    expect(valid(both, 2.5)).toBe(true);
  });

  it("follows if/then/else and not/anyOf", () => {
    expect(valid(JOIN, { mode: "reduce", operation: "sum" })).toBe(true);
    expect(valid(JOIN, { mode: "reduce" })).toBe(false);
    expect(valid(JOIN, { mode: "list" })).toBe(true);
    expect(valid(JOIN, { mode: "list", operation: "sum" })).toBe(false);
  });

  it("checks numbers, strings, arrays and property counts", () => {
    expect(valid({ type: "integer" }, 1.5)).toBe(false);
    expect(valid({ type: "number", exclusiveMaximum: 1 }, 1)).toBe(false);
    expect(valid({ type: "string", maxLength: 2 }, "病理")).toBe(true); // code points, not UTF-16 units
    expect(valid({ type: "array", minItems: 1, maxItems: 2 }, [])).toBe(false);
    expect(valid({ uniqueItems: true }, [{ a: 1 }, { a: 1 }])).toBe(false);
    expect(valid({ minProperties: 1 }, {})).toBe(false);
    expect(valid({ propertyNames: { pattern: "^[a-z]+$" } }, { Ab: 1 })).toBe(false);
    expect(valid({ dependentRequired: { a: ["b"] } }, { a: 1 })).toBe(false);
    expect(valid({ type: ["string", "null"] }, null)).toBe(true);
    expect(valid(false, 1)).toBe(false);
  });

  it("resolves local $refs against the root schema", () => {
    const root: Schema = { $defs: { code: { type: "string", minLength: 2 } }, properties: { c: { $ref: "#/$defs/code" } } };
    expect(valid(root, { c: "AB" })).toBe(true);
    expect(valid(root, { c: "A" })).toBe(false);
    expect(() => schemaErrors({ $ref: "#/$defs/none" }, 1)).toThrow("not found");
  });
});

describe("InterpretingValidator (the inspector form's validator)", () => {
  const validator = new InterpretingValidator();

  it("picks the oneOf branch the data matches, as rjsf asks it to", () => {
    const [inference, http] = (MODEL_CALL as { oneOf: [object, object] }).oneOf;
    const config = { endpoint: "e", protocol: "http_json", path: "/predict" };
    expect(validator.isValid(inference, config, MODEL_CALL as object)).toBe(false);
    expect(validator.isValid(http, config, MODEL_CALL as object)).toBe(true);
  });

  it("reports form errors by property path", () => {
    const data = { protocol: "http_json", path: "/p" };
    const { errors, errorSchema } = validator.validateFormData(data, MODEL_CALL);
    expect(errors.map((e) => e.property)).toEqual([".endpoint"]);
    const fields = errorSchema as Record<string, { __errors?: string[] } | undefined>;
    expect(fields.endpoint?.__errors).toEqual(["must have required property 'endpoint'"]);
  });
});
