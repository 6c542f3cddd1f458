// The visible_if builder's model and its two directions: a simple condition (clauses on earlier
// elements joined by one "and" or "or") written as the sandboxed Jinja2 expression the backend
// evaluates, and such an expression read back. Anything else (parentheses, mixed and/or,
// filters, arithmetic) reads as null: the designer then shows the expression for experts.

export type Op =
  | "eq"
  | "ne"
  | "lt"
  | "le"
  | "gt"
  | "ge"
  | "in"
  | "not_in"
  | "contains"
  | "not_contains"
  | "is_true"
  | "is_false";

export type Value = string | number | boolean | string[] | null;

export interface Clause {
  element: string;
  op: Op;
  value: Value;
}

export interface Condition {
  join: "and" | "or";
  clauses: Clause[];
}

export const OPS: readonly Op[] = [
  "eq",
  "ne",
  "lt",
  "le",
  "gt",
  "ge",
  "in",
  "not_in",
  "contains",
  "not_contains",
  "is_true",
  "is_false",
];

const COMPARE: Record<string, Op> = {
  "==": "eq",
  "!=": "ne",
  "<": "lt",
  "<=": "le",
  ">": "gt",
  ">=": "ge",
};
const SYMBOL: Partial<Record<Op, string>> = Object.fromEntries(
  Object.entries(COMPARE).map(([symbol, op]) => [op, symbol]),
);

/** Which operators fit an element type (the builder offers only these). */
export function opsFor(type: string): Op[] {
  switch (type) {
    case "number":
    case "date":
      return ["eq", "ne", "lt", "le", "gt", "ge"];
    case "boolean":
      return ["is_true", "is_false"];
    case "multi_select":
      return ["contains", "not_contains"];
    case "single_select":
      return ["eq", "ne", "in", "not_in"];
    default:
      return ["eq", "ne"];
  }
}

export function stringLiteral(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

function literal(value: Value): string {
  if (value === null) return "none";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return `[${value.map(stringLiteral).join(", ")}]`;
  return stringLiteral(value);
}

export function clauseExpression(clause: Clause): string {
  const { element, op, value } = clause;
  switch (op) {
    case "is_true":
      return element;
    case "is_false":
      return `not ${element}`;
    case "contains":
      return `${literal(value)} in ${element}`;
    case "not_contains":
      return `${literal(value)} not in ${element}`;
    case "in":
      return `${element} in ${literal(value)}`;
    case "not_in":
      return `${element} not in ${literal(value)}`;
    default:
      return `${element} ${SYMBOL[op] ?? "=="} ${literal(value)}`;
  }
}

/** The expression a condition stands for ("" for no clauses: always visible). */
export function toExpression(condition: Condition): string {
  return condition.clauses.map(clauseExpression).join(` ${condition.join} `);
}

// --- reading an expression back -----------------------------------------------------------

type Token =
  | { kind: "name"; text: string }
  | { kind: "string"; text: string }
  | { kind: "number"; value: number }
  | { kind: "op"; text: string }
  | { kind: "punct"; text: string };

const TOKEN =
  /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|(==|!=|<=|>=|<|>)|([[\],]))/y;

function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, "$1");
}

export function tokenize(expression: string): Token[] | null {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(expression);
    if (!match) return null;
    at = TOKEN.lastIndex;
    const [, name, str, num, op, punct] = match;
    if (name !== undefined) tokens.push({ kind: "name", text: name });
    else if (str !== undefined) tokens.push({ kind: "string", text: unquote(str) });
    else if (num !== undefined) tokens.push({ kind: "number", value: Number(num) });
    else if (op !== undefined) tokens.push({ kind: "op", text: op });
    else if (punct !== undefined) tokens.push({ kind: "punct", text: punct });
  }
  return tokens;
}

const KEYWORDS = new Set(["and", "or", "not", "in", "true", "false", "True", "False", "none"]);

function isElement(token: Token | undefined): token is { kind: "name"; text: string } {
  return token?.kind === "name" && !KEYWORDS.has(token.text);
}

function isWord(token: Token | undefined, word: string): boolean {
  return token?.kind === "name" && token.text === word;
}

function readValue(tokens: Token[], at: number): [Value, number] | null {
  const token = tokens[at];
  if (!token) return null;
  if (token.kind === "string") return [token.text, at + 1];
  if (token.kind === "number") return [token.value, at + 1];
  if (token.kind === "name" && /^(true|True)$/.test(token.text)) return [true, at + 1];
  if (token.kind === "name" && /^(false|False)$/.test(token.text)) return [false, at + 1];
  if (token.kind === "punct" && token.text === "[") {
    const items: string[] = [];
    let i = at + 1;
    while (i < tokens.length) {
      const item = tokens[i];
      if (item?.kind === "punct" && item.text === "]") return [items, i + 1];
      if (item?.kind !== "string") return null;
      items.push(item.text);
      i += 1;
      const next = tokens[i];
      if (next?.kind === "punct" && next.text === ",") i += 1;
      else if (!(next?.kind === "punct" && next.text === "]")) return null;
    }
  }
  return null;
}

/** One clause from tokens[at], and the index after it; null when not a simple clause. */
function readClause(tokens: Token[], at: number): [Clause, number] | null {
  const first = tokens[at];
  if (isWord(first, "not") && isElement(tokens[at + 1])) {
    return [{ element: (tokens[at + 1] as { text: string }).text, op: "is_false", value: null }, at + 2];
  }
  if (first?.kind === "string") {
    const negated = isWord(tokens[at + 1], "not");
    const inAt = at + 1 + (negated ? 1 : 0);
    if (!isWord(tokens[inAt], "in") || !isElement(tokens[inAt + 1])) return null;
    const op: Op = negated ? "not_contains" : "contains";
    return [{ element: (tokens[inAt + 1] as { text: string }).text, op, value: first.text }, inAt + 2];
  }
  if (!isElement(first)) return null;
  const next = tokens[at + 1];
  if (next?.kind === "op") {
    const read = readValue(tokens, at + 2);
    const op = COMPARE[next.text];
    if (!read || !op || Array.isArray(read[0])) return null;
    return [{ element: first.text, op, value: read[0] }, read[1]];
  }
  const negated = isWord(next, "not");
  if (isWord(tokens[at + 1 + (negated ? 1 : 0)], "in")) {
    const read = readValue(tokens, at + 2 + (negated ? 1 : 0));
    if (!read || !Array.isArray(read[0])) return null;
    return [{ element: first.text, op: negated ? "not_in" : "in", value: read[0] }, read[1]];
  }
  return [{ element: first.text, op: "is_true", value: null }, at + 1];
}

/** The condition an expression stands for, or null when the builder cannot show it. */
export function parseExpression(expression: string): Condition | null {
  if (!expression.trim()) return { join: "and", clauses: [] };
  const tokens = tokenize(expression);
  if (!tokens) return null;
  const clauses: Clause[] = [];
  let join: "and" | "or" | null = null;
  let at = 0;
  for (;;) {
    const read = readClause(tokens, at);
    if (!read) return null;
    clauses.push(read[0]);
    at = read[1];
    if (at === tokens.length) break;
    const word = tokens[at];
    if (!(isWord(word, "and") || isWord(word, "or"))) return null;
    const next = (word as { text: "and" | "or" }).text;
    if (join !== null && join !== next) return null; // mixed and/or: precedence matters
    join = next;
    at += 1;
  }
  return { join: join ?? "and", clauses };
}

/** The elements a condition reads (to check they come before the element it guards). */
export function elementsRead(condition: Condition): string[] {
  return [...new Set(condition.clauses.map((c) => c.element))];
}
