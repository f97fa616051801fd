/**
 * Tokenizer and parser for the small subset of GoogleSQL the BigQuery mock runs (see BIGQUERY.md for
 * the grammar): SELECT with WHERE/GROUP BY/ORDER BY/LIMIT, MERGE, DROP TABLE, DELETE, INSERT, TRUNCATE,
 * ALTER TABLE ADD COLUMN / SET OPTIONS.
 * Anything else is an `invalidQuery` error quoting the statement's first 80 characters.
 *
 * @module
 */
import { invalidQuery, MockBigQueryError } from "./_bigquery_errors.ts";

/** A table named in a statement: `project.dataset.table`, `dataset.table` or `table`. */
export interface TableRef {
  parts: string[];
}

/** An expression node. */
export type Expr =
  | { k: "lit"; v: unknown }
  | { k: "param"; name: string }
  | { k: "col"; qual?: string; name: string }
  | { k: "star" }
  | { k: "call"; name: string; args: Expr[]; distinct: boolean }
  | { k: "bin"; op: string; l: Expr; r: Expr }
  | { k: "not"; e: Expr }
  | { k: "neg"; e: Expr }
  | { k: "isnull"; e: Expr; not: boolean }
  | { k: "isbool"; e: Expr; v: boolean; not: boolean }
  | { k: "in"; e: Expr; list?: Expr[]; sub?: Select; unnest?: Expr; not: boolean }
  | { k: "between"; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: "like"; e: Expr; pattern: Expr; not: boolean }
  | { k: "case"; subject?: Expr; whens: [Expr, Expr][]; else?: Expr }
  | { k: "cast"; e: Expr; type: string; safe: boolean }
  | { k: "array"; items: Expr[] };

/** A `FROM` / `USING` source. */
export interface Source {
  table?: TableRef;
  sub?: Select;
  alias?: string;
}

/** A SELECT statement. */
export interface Select {
  kind: "select";
  distinct: boolean;
  items: { expr: Expr; alias?: string }[] | "*";
  from?: Source;
  where?: Expr;
  groupBy?: Expr[];
  having?: Expr;
  orderBy?: { expr: Expr; desc: boolean }[];
  limit?: number;
}

/** One `WHEN ... THEN ...` clause of a MERGE. */
export interface MergeClause {
  match: "matched" | "not_matched" | "not_matched_by_source";
  cond?: Expr;
  action:
    | { do: "update"; set: [string, Expr][] }
    | { do: "delete" }
    | { do: "insert"; columns?: string[]; values: Expr[] | "row" };
}

/** A parsed statement. */
export type Statement =
  | Select
  | {
    kind: "merge";
    target: TableRef;
    targetAlias?: string;
    source: Source;
    on: Expr;
    clauses: MergeClause[];
  }
  | { kind: "drop"; table: TableRef; ifExists: boolean }
  | { kind: "delete"; table: TableRef; alias?: string; where: Expr }
  | { kind: "truncate"; table: TableRef }
  | { kind: "insert"; table: TableRef; columns?: string[]; rows?: Expr[][]; select?: Select }
  | {
    kind: "alter";
    table: TableRef;
    ifExists: boolean;
    addColumns: { name: string; type: string; repeated: boolean; notNull: boolean; ifNotExists: boolean }[];
    options: [string, Expr][];
  };

interface Token {
  t: "id" | "qid" | "str" | "num" | "param" | "op" | "eof";
  v: string;
}

const OPS = [
  "<=",
  ">=",
  "<>",
  "!=",
  "||",
  "=",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "(",
  ")",
  ",",
  ".",
  ";",
  "[",
  "]",
];

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (what: string) => invalidQuery(`Syntax error: ${what} at [1:${i + 1}]`);
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ((c === "-" && sql[i + 1] === "-") || c === "#") {
      while (i < sql.length && sql[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) throw fail("Unclosed comment");
      i = end + 2;
      continue;
    }
    if (c === "`") {
      const end = sql.indexOf("`", i + 1);
      if (end < 0) throw fail("Unclosed identifier literal");
      tokens.push({ t: "qid", v: sql.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let text = "";
      while (j < sql.length && sql[j] !== c) {
        if (sql[j] === "\\" && j + 1 < sql.length) {
          const next = sql[j + 1];
          text += next === "n" ? "\n" : next === "t" ? "\t" : next;
          j += 2;
        } else text += sql[j++];
      }
      if (j >= sql.length) throw fail("Unclosed string literal");
      tokens.push({ t: "str", v: text });
      i = j + 1;
      continue;
    }
    const num = /^(\d+\.?\d*(?:[eE][+-]?\d+)?)/.exec(sql.slice(i, i + 64));
    if (num) {
      tokens.push({ t: "num", v: num[1] });
      i += num[1].length;
      continue;
    }
    if (c === "@") {
      const m = /^@([A-Za-z_][A-Za-z0-9_]*)/.exec(sql.slice(i));
      if (!m) throw fail('Unexpected "@"');
      tokens.push({ t: "param", v: m[1] });
      i += m[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i, i + 400));
    if (id) {
      tokens.push({ t: "id", v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    if (!op) throw fail(`Illegal input character "${c}"`);
    tokens.push({ t: "op", v: op });
    i += op.length;
  }
  tokens.push({ t: "eof", v: "" });
  return tokens;
}

// Words that end an implicit alias.
const RESERVED = new Set([
  "AND",
  "AS",
  "BY",
  "CROSS",
  "FROM",
  "FULL",
  "GROUP",
  "HAVING",
  "INNER",
  "JOIN",
  "LEFT",
  "LIMIT",
  "ON",
  "OR",
  "ORDER",
  "RIGHT",
  "SET",
  "THEN",
  "USING",
  "WHEN",
  "WHERE",
  "WINDOW",
  "QUALIFY",
  "UNION",
  "VALUES",
]);

class Parser {
  #tokens: Token[];
  #pos = 0;
  #sql: string;

  constructor(sql: string) {
    this.#sql = sql;
    this.#tokens = tokenize(sql);
  }

  unsupported(): MockBigQueryError {
    return invalidQuery(`Unsupported statement in the BigQuery mock: ${this.#sql.trim().slice(0, 80)}`);
  }

  peek(offset = 0): Token {
    return this.#tokens[Math.min(this.#pos + offset, this.#tokens.length - 1)];
  }

  next(): Token {
    return this.#tokens[this.#pos++];
  }

  isWord(word: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.t === "id" && t.v.toUpperCase() === word;
  }

  isOp(op: string): boolean {
    const t = this.peek();
    return t.t === "op" && t.v === op;
  }

  acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.#pos++;
    return true;
  }

  acceptOp(op: string): boolean {
    if (!this.isOp(op)) return false;
    this.#pos++;
    return true;
  }

  expectWord(word: string): void {
    if (!this.acceptWord(word)) throw this.syntax(`Expected keyword ${word}`);
  }

  expectOp(op: string): void {
    if (!this.acceptOp(op)) throw this.syntax(`Expected "${op}"`);
  }

  syntax(what: string): MockBigQueryError {
    const t = this.peek();
    return invalidQuery(`Syntax error: ${what} but got ${t.t === "eof" ? "end of input" : `"${t.v}"`}`);
  }

  identifier(): string {
    const t = this.next();
    if (t.t === "id" || t.t === "qid") return t.v;
    this.#pos--;
    throw this.syntax("Expected identifier");
  }

  statement(): Statement {
    let stmt: Statement;
    if (this.isWord("SELECT")) stmt = this.select();
    else if (this.isWord("MERGE")) stmt = this.merge();
    else if (this.isWord("DROP")) stmt = this.drop();
    else if (this.isWord("DELETE")) stmt = this.delete();
    else if (this.isWord("INSERT")) stmt = this.insert();
    else if (this.isWord("ALTER")) stmt = this.alter();
    else if (this.isWord("TRUNCATE")) {
      this.next();
      this.expectWord("TABLE");
      stmt = { kind: "truncate", table: this.tableRef() };
    } else throw this.unsupported();
    this.acceptOp(";");
    if (this.peek().t !== "eof") throw this.unsupported();
    return stmt;
  }

  tableRef(): TableRef {
    const parts: string[] = [];
    do {
      const t = this.next();
      if (t.t === "qid") parts.push(...t.v.split("."));
      else if (t.t === "id") parts.push(t.v);
      else {
        this.#pos--;
        throw this.syntax("Expected table name");
      }
    } while (this.acceptOp("."));
    if (parts.length > 3) throw invalidQuery(`Invalid table name: ${parts.join(".")}`);
    return { parts };
  }

  alias(): string | undefined {
    if (this.acceptWord("AS")) return this.identifier();
    const t = this.peek();
    if (t.t === "qid" || (t.t === "id" && !RESERVED.has(t.v.toUpperCase()))) return this.identifier();
    return undefined;
  }

  source(): Source {
    if (this.isOp("(")) {
      this.next();
      const sub = this.select();
      this.expectOp(")");
      return { sub, alias: this.alias() };
    }
    const table = this.tableRef();
    return { table, alias: this.alias() };
  }

  select(): Select {
    this.expectWord("SELECT");
    const distinct = this.acceptWord("DISTINCT");
    this.acceptWord("ALL");
    let items: Select["items"];
    if (this.acceptOp("*")) items = "*";
    else {
      items = [];
      do {
        const expr = this.expr();
        items.push({ expr, alias: this.alias() });
      } while (this.acceptOp(","));
    }
    const out: Select = { kind: "select", distinct, items };
    if (this.acceptWord("FROM")) {
      out.from = this.source();
      if (this.isOp(",") || this.isWord("JOIN") || this.isWord("LEFT") || this.isWord("INNER")) {
        throw this.unsupported();
      }
    }
    if (this.acceptWord("WHERE")) out.where = this.expr();
    if (this.acceptWord("GROUP")) {
      this.expectWord("BY");
      out.groupBy = [];
      do out.groupBy.push(this.expr()); while (this.acceptOp(","));
    }
    if (this.acceptWord("HAVING")) out.having = this.expr();
    if (this.acceptWord("ORDER")) {
      this.expectWord("BY");
      out.orderBy = [];
      do {
        const expr = this.expr();
        const desc = this.acceptWord("DESC");
        if (!desc) this.acceptWord("ASC");
        out.orderBy.push({ expr, desc });
      } while (this.acceptOp(","));
    }
    if (this.acceptWord("LIMIT")) {
      const t = this.next();
      if (t.t !== "num") throw this.syntax("Expected a number after LIMIT");
      out.limit = Number(t.v);
    }
    return out;
  }

  merge(): Statement {
    this.expectWord("MERGE");
    this.acceptWord("INTO");
    const target = this.tableRef();
    const targetAlias = this.alias();
    this.expectWord("USING");
    const source = this.source();
    this.expectWord("ON");
    const on = this.expr();
    const clauses: MergeClause[] = [];
    while (this.acceptWord("WHEN")) {
      let match: MergeClause["match"] = "matched";
      if (this.acceptWord("NOT")) {
        this.expectWord("MATCHED");
        match = "not_matched";
        if (this.acceptWord("BY")) {
          if (this.acceptWord("SOURCE")) match = "not_matched_by_source";
          else this.expectWord("TARGET");
        }
      } else this.expectWord("MATCHED");
      const cond = this.acceptWord("AND") ? this.expr() : undefined;
      this.expectWord("THEN");
      let action: MergeClause["action"];
      if (this.acceptWord("UPDATE")) {
        this.expectWord("SET");
        const set: [string, Expr][] = [];
        do {
          let column = this.identifier();
          // `SET T.col = ...` is not valid GoogleSQL, but accept a qualifier equal to the target alias.
          if (this.acceptOp(".")) column = this.identifier();
          this.expectOp("=");
          set.push([column, this.expr()]);
        } while (this.acceptOp(","));
        action = { do: "update", set };
      } else if (this.acceptWord("DELETE")) {
        action = { do: "delete" };
      } else if (this.acceptWord("INSERT")) {
        let columns: string[] | undefined;
        if (this.acceptOp("(")) {
          columns = [];
          do columns.push(this.identifier()); while (this.acceptOp(","));
          this.expectOp(")");
        }
        if (this.acceptWord("ROW")) action = { do: "insert", columns, values: "row" };
        else {
          this.expectWord("VALUES");
          this.expectOp("(");
          const values: Expr[] = [];
          do values.push(this.expr()); while (this.acceptOp(","));
          this.expectOp(")");
          action = { do: "insert", columns, values };
        }
      } else throw this.syntax("Expected UPDATE, DELETE or INSERT");
      clauses.push({ match, cond, action });
    }
    if (clauses.length === 0) throw this.syntax("Expected keyword WHEN");
    return { kind: "merge", target, targetAlias, source, on, clauses };
  }

  drop(): Statement {
    this.expectWord("DROP");
    if (!this.acceptWord("TABLE")) throw this.unsupported();
    let ifExists = false;
    if (this.acceptWord("IF")) {
      this.expectWord("EXISTS");
      ifExists = true;
    }
    return { kind: "drop", table: this.tableRef(), ifExists };
  }

  alter(): Statement {
    this.expectWord("ALTER");
    if (!this.acceptWord("TABLE")) throw this.unsupported();
    let ifExists = false;
    if (this.acceptWord("IF")) {
      this.expectWord("EXISTS");
      ifExists = true;
    }
    const table = this.tableRef();
    const out: Statement & { kind: "alter" } = {
      kind: "alter",
      table,
      ifExists,
      addColumns: [],
      options: [],
    };
    if (this.acceptWord("SET")) {
      this.expectWord("OPTIONS");
      this.expectOp("(");
      do {
        const name = this.identifier().toLowerCase();
        this.expectOp("=");
        out.options.push([name, this.expr()]);
      } while (this.acceptOp(","));
      this.expectOp(")");
      return out;
    }
    do {
      this.expectWord("ADD");
      this.expectWord("COLUMN");
      let ifNotExists = false;
      if (this.acceptWord("IF")) {
        this.expectWord("NOT");
        this.expectWord("EXISTS");
        ifNotExists = true;
      }
      const name = this.identifier();
      let type = this.identifier().toUpperCase();
      let repeated = false;
      if (type === "ARRAY") {
        this.expectOp("<");
        type = this.identifier().toUpperCase();
        this.expectOp(">");
        repeated = true;
      }
      let notNull = false;
      if (this.acceptWord("NOT")) {
        this.expectWord("NULL");
        notNull = true;
      }
      out.addColumns.push({ name, type, repeated, notNull, ifNotExists });
    } while (this.acceptOp(","));
    return out;
  }

  delete(): Statement {
    this.expectWord("DELETE");
    this.acceptWord("FROM");
    const table = this.tableRef();
    const alias = this.alias();
    this.expectWord("WHERE");
    return { kind: "delete", table, alias, where: this.expr() };
  }

  insert(): Statement {
    this.expectWord("INSERT");
    this.acceptWord("INTO");
    const table = this.tableRef();
    let columns: string[] | undefined;
    if (this.acceptOp("(")) {
      columns = [];
      do columns.push(this.identifier()); while (this.acceptOp(","));
      this.expectOp(")");
    }
    if (this.isWord("SELECT")) return { kind: "insert", table, columns, select: this.select() };
    this.expectWord("VALUES");
    const rows: Expr[][] = [];
    do {
      this.expectOp("(");
      const row: Expr[] = [];
      do row.push(this.expr()); while (this.acceptOp(","));
      this.expectOp(")");
      rows.push(row);
    } while (this.acceptOp(","));
    return { kind: "insert", table, columns, rows };
  }

  expr(): Expr {
    let left = this.andExpr();
    while (this.acceptWord("OR")) left = { k: "bin", op: "OR", l: left, r: this.andExpr() };
    return left;
  }

  andExpr(): Expr {
    let left = this.notExpr();
    while (this.acceptWord("AND")) left = { k: "bin", op: "AND", l: left, r: this.notExpr() };
    return left;
  }

  notExpr(): Expr {
    if (this.acceptWord("NOT")) return { k: "not", e: this.notExpr() };
    return this.comparison();
  }

  comparison(): Expr {
    const left = this.additive();
    const t = this.peek();
    if (t.t === "op" && ["=", "!=", "<>", "<", ">", "<=", ">="].includes(t.v)) {
      this.next();
      return { k: "bin", op: t.v === "<>" ? "!=" : t.v, l: left, r: this.additive() };
    }
    if (this.acceptWord("IS")) {
      const not = this.acceptWord("NOT");
      if (this.acceptWord("NULL")) return { k: "isnull", e: left, not };
      if (this.acceptWord("TRUE")) return { k: "isbool", e: left, v: true, not };
      if (this.acceptWord("FALSE")) return { k: "isbool", e: left, v: false, not };
      throw this.syntax("Expected NULL, TRUE or FALSE");
    }
    const not = this.isWord("NOT") &&
      (this.isWord("IN", 1) || this.isWord("LIKE", 1) || this.isWord("BETWEEN", 1));
    if (not) this.next();
    if (this.acceptWord("IN")) {
      if (this.acceptWord("UNNEST")) {
        this.expectOp("(");
        const unnest = this.expr();
        this.expectOp(")");
        return { k: "in", e: left, unnest, not };
      }
      this.expectOp("(");
      if (this.isWord("SELECT")) {
        const sub = this.select();
        this.expectOp(")");
        return { k: "in", e: left, sub, not };
      }
      const list: Expr[] = [];
      do list.push(this.expr()); while (this.acceptOp(","));
      this.expectOp(")");
      return { k: "in", e: left, list, not };
    }
    if (this.acceptWord("LIKE")) return { k: "like", e: left, pattern: this.additive(), not };
    if (this.acceptWord("BETWEEN")) {
      const lo = this.additive();
      this.expectWord("AND");
      return { k: "between", e: left, lo, hi: this.additive(), not };
    }
    if (not) throw this.syntax("Expected IN, LIKE or BETWEEN");
    return left;
  }

  additive(): Expr {
    let left = this.multiplicative();
    for (;;) {
      const t = this.peek();
      if (t.t === "op" && (t.v === "+" || t.v === "-" || t.v === "||")) {
        this.next();
        left = { k: "bin", op: t.v, l: left, r: this.multiplicative() };
      } else return left;
    }
  }

  multiplicative(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.t === "op" && (t.v === "*" || t.v === "/")) {
        this.next();
        left = { k: "bin", op: t.v, l: left, r: this.unary() };
      } else return left;
    }
  }

  unary(): Expr {
    if (this.acceptOp("-")) return { k: "neg", e: this.unary() };
    if (this.acceptOp("+")) return this.unary();
    return this.primary();
  }

  primary(): Expr {
    const t = this.next();
    if (t.t === "num") return { k: "lit", v: Number(t.v) };
    if (t.t === "str") return { k: "lit", v: t.v };
    if (t.t === "param") return { k: "param", name: t.v };
    if (t.t === "op" && t.v === "(") {
      if (this.isWord("SELECT")) throw this.unsupported();
      const e = this.expr();
      this.expectOp(")");
      return e;
    }
    if (t.t === "op" && t.v === "[") {
      const items: Expr[] = [];
      if (!this.isOp("]")) {
        do items.push(this.expr()); while (this.acceptOp(","));
      }
      this.expectOp("]");
      return { k: "array", items };
    }
    if (t.t === "id") {
      const word = t.v.toUpperCase();
      if (word === "NULL") return { k: "lit", v: null };
      if (word === "TRUE") return { k: "lit", v: true };
      if (word === "FALSE") return { k: "lit", v: false };
      if (word === "CASE") return this.caseExpr();
      if ((word === "CAST" || word === "SAFE_CAST") && this.isOp("(")) {
        this.next();
        const e = this.expr();
        this.expectWord("AS");
        const type = this.identifier().toUpperCase();
        this.expectOp(")");
        return { k: "cast", e, type, safe: word === "SAFE_CAST" };
      }
      if ((word === "DATE" || word === "TIMESTAMP") && this.peek().t === "str") {
        return { k: "call", name: word, args: [{ k: "lit", v: this.next().v }], distinct: false };
      }
      if (word === "ARRAY" && this.isOp("[")) return this.primary();
      if (this.isOp("(")) {
        this.next();
        const args: Expr[] = [];
        const distinct = this.acceptWord("DISTINCT");
        if (this.acceptOp("*")) args.push({ k: "star" });
        else if (!this.isOp(")")) {
          do args.push(this.expr()); while (this.acceptOp(","));
        }
        this.expectOp(")");
        return { k: "call", name: word, args, distinct };
      }
      if (word === "CURRENT_TIMESTAMP" || word === "CURRENT_DATE") {
        return { k: "call", name: word, args: [], distinct: false };
      }
    }
    if (t.t === "id" || t.t === "qid") {
      if (this.acceptOp(".")) {
        const name = this.identifier();
        if (this.isOp(".")) throw this.unsupported();
        return { k: "col", qual: t.v, name };
      }
      return { k: "col", name: t.v };
    }
    this.#pos--;
    throw this.syntax("Unexpected token");
  }

  caseExpr(): Expr {
    const subject = this.isWord("WHEN") ? undefined : this.expr();
    const whens: [Expr, Expr][] = [];
    while (this.acceptWord("WHEN")) {
      const cond = this.expr();
      this.expectWord("THEN");
      whens.push([cond, this.expr()]);
    }
    const otherwise = this.acceptWord("ELSE") ? this.expr() : undefined;
    this.expectWord("END");
    return { k: "case", subject, whens, else: otherwise };
  }
}

/**
 * Parses one statement.
 *
 * @param sql The statement text.
 * @returns The statement's syntax tree.
 * @throws {MockBigQueryError} `invalidQuery` for a syntax error or a statement outside the supported subset.
 */
export function parseStatement(sql: string): Statement {
  const parser = new Parser(sql);
  try {
    return parser.statement();
  } catch (err) {
    if (err instanceof MockBigQueryError && err.message.startsWith("Syntax error")) {
      // Quote the statement, so a sink author sees at once which SQL the mock could not run.
      throw invalidQuery(
        `${err.message}; statement not supported by the BigQuery mock: ${sql.trim().slice(0, 80)}`,
      );
    }
    throw err;
  }
}
