// A JSON Schema (2020-12 subset) checker that interprets the schema instead of compiling it to
// code: Ajv compiles with `new Function`, which the Content-Security-Policy (script-src 'self',
// no 'unsafe-eval') refuses. It covers the keywords of the node-type config schemas the
// inspector's form shows; `format` is not checked (the server checks every config on save).

export type Schema = boolean | { [keyword: string]: unknown };

export interface SchemaError {
  /** Where in the data, as a JSON pointer ("/inputs/0/name"); "" is the value itself. */
  instancePath: string;
  /** Where in the schema ("#/properties/inputs/items/required"). */
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message: string;
}

type Json = unknown;

function isObject(value: Json): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typeOf(value: Json): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function hasType(value: Json, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === "number" && actual === "integer");
}

export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => key in b && deepEqual(a[key], b[key]))
    );
  }
  return false;
}

function pointer(root: Schema, ref: string): Schema {
  if (!ref.startsWith("#")) throw new Error(`only local $ref are supported: ${ref}`);
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined;
  }
  if (typeof node !== "boolean" && !isObject(node)) throw new Error(`$ref ${ref} not found`);
  return node;
}

function codePoints(text: string): number {
  return [...text].length;
}

class Checker {
  readonly errors: SchemaError[] = [];

  constructor(private readonly root: Schema) {}

  private fail(at: string, path: string, keyword: string, message: string, params = {}): void {
    this.errors.push({ instancePath: at, schemaPath: `${path}/${keyword}`, keyword, params, message });
  }

  /** Whether ``value`` matches ``schema``, without recording why not. */
  private matches(schema: Schema, value: Json, at: string, path: string): boolean {
    const inner = new Checker(this.root);
    inner.check(schema, value, at, path);
    return inner.errors.length === 0;
  }

  check(schema: Schema, value: Json, at = "", path = "#"): void {
    if (schema === true) return;
    if (schema === false) {
      this.fail(at, path, "false schema", "must not be present");
      return;
    }
    const s = schema;
    if (typeof s.$ref === "string") this.check(pointer(this.root, s.$ref), value, at, `${path}/$ref`);
    this.checkGeneric(s, value, at, path);
    if (typeof value === "number") this.checkNumber(s, value, at, path);
    if (typeof value === "string") this.checkString(s, value, at, path);
    if (Array.isArray(value)) this.checkArray(s, value, at, path);
    if (isObject(value)) this.checkObject(s, value, at, path);
    this.checkCombinations(s, value, at, path);
  }

  private checkGeneric(s: Record<string, unknown>, value: Json, at: string, path: string): void {
    if (s.type !== undefined) {
      const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
      if (!types.some((type) => hasType(value, type))) {
        this.fail(at, path, "type", `must be ${types.join(",")}`, { type: s.type });
      }
    }
    if (Array.isArray(s.enum) && !s.enum.some((option) => deepEqual(option, value))) {
      this.fail(at, path, "enum", "must be equal to one of the allowed values", {
        allowedValues: s.enum,
      });
    }
    if ("const" in s && !deepEqual(s.const, value)) {
      this.fail(at, path, "const", "must be equal to constant", { allowedValue: s.const });
    }
  }

  private checkNumber(s: Record<string, unknown>, value: number, at: string, path: string): void {
    const bound = (keyword: string, ok: (limit: number) => boolean, comparison: string) => {
      const limit = s[keyword];
      if (typeof limit === "number" && !ok(limit)) {
        this.fail(at, path, keyword, `must be ${comparison} ${limit}`, { comparison, limit });
      }
    };
    bound("minimum", (limit) => value >= limit, ">=");
    bound("maximum", (limit) => value <= limit, "<=");
    bound("exclusiveMinimum", (limit) => value > limit, ">");
    bound("exclusiveMaximum", (limit) => value < limit, "<");
    const step = s.multipleOf;
    if (typeof step === "number" && Math.abs(value / step - Math.round(value / step)) > 1e-9) {
      this.fail(at, path, "multipleOf", `must be multiple of ${step}`, { multipleOf: step });
    }
  }

  private checkString(s: Record<string, unknown>, value: string, at: string, path: string): void {
    const length = codePoints(value);
    if (typeof s.minLength === "number" && length < s.minLength) {
      this.fail(at, path, "minLength", `must NOT have fewer than ${s.minLength} characters`, {
        limit: s.minLength,
      });
    }
    if (typeof s.maxLength === "number" && length > s.maxLength) {
      this.fail(at, path, "maxLength", `must NOT have more than ${s.maxLength} characters`, {
        limit: s.maxLength,
      });
    }
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(value)) {
      this.fail(at, path, "pattern", `must match pattern "${s.pattern}"`, { pattern: s.pattern });
    }
  }

  private checkArray(s: Record<string, unknown>, value: Json[], at: string, path: string): void {
    const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as Schema[]) : [];
    prefix.forEach((item, i) => {
      if (i < value.length) this.check(item, value[i], `${at}/${i}`, `${path}/prefixItems/${i}`);
    });
    if (s.items !== undefined) {
      for (let i = prefix.length; i < value.length; i += 1) {
        this.check(s.items as Schema, value[i], `${at}/${i}`, `${path}/items`);
      }
    }
    if (typeof s.minItems === "number" && value.length < s.minItems) {
      this.fail(at, path, "minItems", `must NOT have fewer than ${s.minItems} items`, {
        limit: s.minItems,
      });
    }
    if (typeof s.maxItems === "number" && value.length > s.maxItems) {
      this.fail(at, path, "maxItems", `must NOT have more than ${s.maxItems} items`, {
        limit: s.maxItems,
      });
    }
    if (s.uniqueItems === true) {
      const twice = value.findIndex((item, i) => value.slice(0, i).some((x) => deepEqual(x, item)));
      if (twice >= 0) {
        this.fail(at, path, "uniqueItems", "must NOT have duplicate items", { j: twice });
      }
    }
  }

  private checkObject(
    s: Record<string, unknown>,
    value: Record<string, unknown>,
    at: string,
    path: string,
  ): void {
    const properties = isObject(s.properties) ? (s.properties as Record<string, Schema>) : {};
    const patterns = isObject(s.patternProperties)
      ? (s.patternProperties as Record<string, Schema>)
      : {};
    for (const name of Array.isArray(s.required) ? (s.required as string[]) : []) {
      if (!(name in value)) {
        this.fail(at, path, "required", `must have required property '${name}'`, {
          missingProperty: name,
        });
      }
    }
    const keys = Object.keys(value);
    const count = (keyword: string, ok: (limit: number) => boolean, words: string) => {
      const limit = s[keyword];
      if (typeof limit === "number" && !ok(limit)) {
        this.fail(at, path, keyword, `must NOT have ${words} ${limit} properties`, { limit });
      }
    };
    count("minProperties", (limit) => keys.length >= limit, "fewer than");
    count("maxProperties", (limit) => keys.length <= limit, "more than");
    if (isObject(s.dependentRequired)) {
      for (const [name, needs] of Object.entries(s.dependentRequired as Record<string, string[]>)) {
        const missing = name in value ? needs.filter((other) => !(other in value)) : [];
        if (missing.length > 0) {
          this.fail(at, path, "dependentRequired", `must have property ${missing.join(", ")} when property ${name} is present`, {
            property: name,
            missingProperty: missing.join(", "),
            deps: missing.join(", "),
          });
        }
      }
    }
    for (const key of keys) {
      const where = `${at}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      let known = false;
      const declared = properties[key];
      if (declared !== undefined) {
        known = true;
        this.check(declared, value[key], where, `${path}/properties/${key}`);
      }
      for (const [source, sub] of Object.entries(patterns)) {
        if (new RegExp(source, "u").test(key)) {
          known = true;
          this.check(sub, value[key], where, `${path}/patternProperties/${source}`);
        }
      }
      if (s.propertyNames !== undefined) {
        this.check(s.propertyNames as Schema, key, where, `${path}/propertyNames`);
      }
      if (!known && s.additionalProperties === false) {
        this.fail(at, path, "additionalProperties", "must NOT have additional properties", {
          additionalProperty: key,
        });
      } else if (!known && s.additionalProperties !== undefined) {
        this.check(s.additionalProperties as Schema, value[key], where, `${path}/additionalProperties`);
      }
    }
  }

  private checkCombinations(s: Record<string, unknown>, value: Json, at: string, path: string) {
    if (Array.isArray(s.allOf)) {
      (s.allOf as Schema[]).forEach((sub, i) => this.check(sub, value, at, `${path}/allOf/${i}`));
    }
    if (Array.isArray(s.anyOf)) {
      const any = (s.anyOf as Schema[]).some((sub, i) => this.matches(sub, value, at, `${path}/anyOf/${i}`));
      if (!any) this.fail(at, path, "anyOf", "must match a schema in anyOf");
    }
    if (Array.isArray(s.oneOf)) {
      const passing = (s.oneOf as Schema[]).filter((sub, i) =>
        this.matches(sub, value, at, `${path}/oneOf/${i}`),
      ).length;
      if (passing !== 1) {
        this.fail(at, path, "oneOf", "must match exactly one schema in oneOf", { passing });
      }
    }
    if (s.not !== undefined && this.matches(s.not as Schema, value, at, `${path}/not`)) {
      this.fail(at, path, "not", "must NOT be valid");
    }
    if (s.if !== undefined) {
      const condition = this.matches(s.if as Schema, value, at, `${path}/if`);
      const branch = condition ? "then" : "else";
      if (s[branch] !== undefined) this.check(s[branch] as Schema, value, at, `${path}/${branch}`);
    }
  }
}

/** Every way ``value`` breaks ``schema`` (``root``: where its local $refs point; itself by
 * default). Throws on a $ref it cannot resolve. */
export function schemaErrors(schema: Schema, value: unknown, root: Schema = schema): SchemaError[] {
  const checker = new Checker(root);
  checker.check(schema, value);
  return checker.errors;
}
