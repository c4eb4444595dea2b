import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node,
  type Pair,
} from "yaml";

export interface Position {
  line: number;
  col: number;
}

export interface SourceDocument {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  /** The document as plain data, or undefined when it is empty. */
  value: unknown;
  /** Position of the document's first content. */
  start: Position;
  /** Where the value at `path` is written; for a missing field, where its parent is. */
  locate(path: readonly PropertyKey[], opts?: { key?: boolean }): Position;
}

export interface SyntaxProblem {
  file: string;
  position: Position;
  message: string;
}

/** Nested aliases beyond this count are refused: a guard against alias bombs. */
const MAX_ALIAS_COUNT = 1000;

export function parseYamlFile(
  file: string,
  text: string,
): { documents: SourceDocument[]; problems: SyntaxProblem[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  const pos = (offset: number): Position => {
    const p = lineCounter.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const problems: SyntaxProblem[] = [];
  const documents: SourceDocument[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc: Document.Parsed, index) => {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        problems.push({ file, position: pos(e.pos[0]), message: e.message.split("\n")[0] ?? e.message });
      }
      return;
    }
    const contents = doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      problems.push({
        file,
        position: pos(contents.range?.[0] ?? 0),
        message: err instanceof Error ? err.message : String(err),
      });
      return;
    }
    const start = pos(contents.range?.[0] ?? 0);
    documents.push({
      file,
      index,
      value,
      start,
      locate(path, opts) {
        let node: Node | null = contents;
        let at: Position = start;
        // A missing field is reported where its parent's key is written, e.g. at `spec:`.
        let parentKey: Position = start;
        for (const seg of path) {
          if (isMap(node)) {
            const items: unknown[] = node.items;
            const pair = items.find(
              (p): p is Pair<Node, Node | null> => isPair(p) && isScalar(p.key) && p.key.value === seg,
            );
            if (!pair) return parentKey;
            const keyNode = pair.key;
            if (keyNode.range) at = pos(keyNode.range[0]);
            parentKey = at;
            node = pair.value ?? null;
            if (node?.range && !opts?.key) at = pos(node.range[0]);
          } else if (isSeq(node) && typeof seg === "number") {
            const item = node.items[seg] as Node | undefined;
            if (!item) return parentKey;
            node = item;
            if (item.range) at = pos(item.range[0]);
            parentKey = at;
          } else {
            return at;
          }
        }
        if (opts?.key) return at;
        return node?.range ? pos(node.range[0]) : at;
      },
    });
  });
  return { documents, problems };
}
