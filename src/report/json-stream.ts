// JSON text in pieces: exactly what JSON.stringify(value, null, 2) gives, without ever holding
// it as one string. A report with millions of entries would pass V8's longest string (2^29 − 24
// characters: `RangeError: Invalid string length`), and the whole text, its JSON.stringify
// workspace and the report would all be in memory at once.
//
// Plain objects and arrays near the top are written member by member; below `depth` levels
// (and for anything else: strings, numbers, objects with toJSON) each member is one
// JSON.stringify call, re-indented to where it sits. JSON strings hold no raw newline, so
// putting the indentation after every "\n" of a member's text is exact.

const INDENT = "  ";

/** Levels of plain objects and arrays written member by member: report → profile → sites → site. */
const SPLIT_DEPTH = 3;

/** A plain object or array, which JSON.stringify writes member by member (no toJSON of its own). */
function splittable(value: unknown): value is Record<string, unknown> | unknown[] {
  if (Array.isArray(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** JSON.stringify(value, null, 2) at indentation `indent`; undefined where JSON has no value (omitted member). */
function leaf(value: unknown, indent: string): string | undefined {
  const text = JSON.stringify(value, null, 2) as string | undefined;
  if (text === undefined || indent === "" || !text.includes("\n")) return text;
  return text.replace(/\n/g, "\n" + indent);
}

function* pieces(value: unknown, indent: string, depth: number): Generator<string> {
  if (depth === 0 || !splittable(value)) {
    yield leaf(value, indent) ?? "null";
    return;
  }
  const inner = indent + INDENT;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield "[]";
      return;
    }
    for (let i = 0; i < value.length; i++) {
      yield (i === 0 ? "[\n" : ",\n") + inner;
      // An element JSON has no value for (undefined, a function) is null, as JSON.stringify writes it.
      yield* pieces(value[i], inner, depth - 1);
    }
    yield "\n" + indent + "]";
    return;
  }
  let first = true;
  for (const key of Object.keys(value)) {
    const member = value[key];
    const text = splittable(member) ? null : leaf(member, inner);
    // A member JSON has no value for is left out, as JSON.stringify leaves it out.
    if (text === undefined) continue;
    yield (first ? "{\n" : ",\n") + inner + JSON.stringify(key) + ": ";
    first = false;
    if (text === null) yield* pieces(member, inner, depth - 1);
    else yield text;
  }
  yield first ? "{}" : "\n" + indent + "}";
}

/**
 * JSON.stringify(value, null, 2) + "\n" in chunks of about `chunkChars` characters (more when
 * one member is longer), for a writer that checks for Ctrl-C between chunks.
 */
export function* jsonChunks(value: unknown, chunkChars = 1 << 20): Generator<string> {
  let parts: string[] = [];
  let size = 0;
  for (const piece of pieces(value, "", SPLIT_DEPTH)) {
    parts.push(piece);
    size += piece.length;
    if (size >= chunkChars) {
      yield parts.join("");
      parts = [];
      size = 0;
    }
  }
  parts.push("\n");
  yield parts.join("");
}
