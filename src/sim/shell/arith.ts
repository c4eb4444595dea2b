/**
 * `$(( … ))` after parameter expansion: integer constants (decimal, 0x hex, 0 octal), variable
 * names (their value, 0 when unset or empty), unary + - ! ~, * / %, + -, << >>, comparisons,
 * == !=, & ^ |, && ||, ?: and parentheses. Assignment operators are not in the subset.
 */
export function evalArith(expr: string, vars: Record<string, string>): number {
  const tokens =
    expr.match(
      /\s+|0[xX][0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_]*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%()!~<>&^|?:]|./g,
    ) ?? [];
  const toks = tokens.filter((t) => !/^\s+$/.test(t));
  let pos = 0;
  const peek = (): string | undefined => toks[pos];
  const take = (t: string): boolean => {
    if (toks[pos] === t) {
      pos++;
      return true;
    }
    return false;
  };
  const value = (name: string, depth: number): number => {
    const v = (vars[name] ?? "").trim();
    if (v === "") return 0;
    if (depth > 8) throw new Error("expression recursion level exceeded");
    return /^-?\d+$/.test(v) ? Number(v) : evalArith(v, vars);
  };
  const primary = (): number => {
    const t = toks[pos++];
    if (t === undefined) throw new Error("syntax error");
    if (t === "(") {
      const v = ternary();
      if (!take(")")) throw new Error("missing )");
      return v;
    }
    if (t === "-") return -primary();
    if (t === "+") return primary();
    if (t === "!") return primary() === 0 ? 1 : 0;
    if (t === "~") return ~primary();
    if (/^0[xX]/.test(t)) return parseInt(t, 16);
    if (/^0\d+$/.test(t)) return parseInt(t, 8);
    if (/^\d+$/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) return value(t, 0);
    throw new Error("syntax error");
  };
  const levels: string[][] = [
    ["||"],
    ["&&"],
    ["|"],
    ["^"],
    ["&"],
    ["==", "!="],
    ["<", ">", "<=", ">="],
    ["<<", ">>"],
    ["+", "-"],
    ["*", "/", "%"],
  ];
  const apply = (op: string, a: number, b: number): number => {
    switch (op) {
      case "||":
        return a !== 0 || b !== 0 ? 1 : 0;
      case "&&":
        return a !== 0 && b !== 0 ? 1 : 0;
      case "|":
        return a | b;
      case "^":
        return a ^ b;
      case "&":
        return a & b;
      case "==":
        return a === b ? 1 : 0;
      case "!=":
        return a !== b ? 1 : 0;
      case "<":
        return a < b ? 1 : 0;
      case ">":
        return a > b ? 1 : 0;
      case "<=":
        return a <= b ? 1 : 0;
      case ">=":
        return a >= b ? 1 : 0;
      case "<<":
        return a << b;
      case ">>":
        return a >> b;
      case "+":
        return a + b;
      case "-":
        return a - b;
      case "*":
        return a * b;
      case "/":
      case "%":
        if (b === 0) throw new Error("division by zero");
        return op === "/" ? Math.trunc(a / b) : a % b;
      default:
        throw new Error("syntax error");
    }
  };
  const binary = (level: number): number => {
    if (level >= levels.length) return primary();
    let a = binary(level + 1);
    for (;;) {
      const op = peek();
      if (op === undefined || !levels[level]!.includes(op)) return a;
      pos++;
      a = apply(op, a, binary(level + 1));
    }
  };
  const ternary = (): number => {
    const c = binary(0);
    if (!take("?")) return c;
    const a = ternary();
    if (!take(":")) throw new Error("expecting ':'");
    const b = ternary();
    return c !== 0 ? a : b;
  };
  if (toks.length === 0) return 0;
  const result = ternary();
  if (pos < toks.length) throw new Error("syntax error");
  return result;
}
