import type { Writable } from "node:stream";

/** Where a command writes: results to `out`, progress and diagnostics to `err`. Swappable in tests. */
export interface Output {
  out: Writable;
  err: Writable;
}

export const processOutput: Output = { out: process.stdout, err: process.stderr };

/** Colour only on a terminal, never with NO_COLOR. */
export function useColour(stream: Writable, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean((stream as { isTTY?: boolean }).isTTY) && !("NO_COLOR" in env) && env.TERM !== "dumb";
}

const CODES = { red: 31, green: 32, yellow: 33, bold: 1, dim: 2 } as const;
export type Style = keyof typeof CODES;

export function paint(text: string, style: Style, enabled: boolean): string {
  return enabled ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text;
}

/** `scheme://user:password@host` becomes `scheme://***@host` (a git origin may carry a token). */
export function hideUrlPasswords(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, "$1***@");
}

/**
 * Makes text safe to print (URL passwords hidden too): control characters (terminal escapes, carriage returns, NUL...) are
 * shown as \u escapes; line breaks and tabs stay. Values from the API, params or crates pass here.
 */
export function printable(text: string): string {
  return hideUrlPasswords(text).replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Line-oriented logger over an Output; every command prints through one of these. Registered
 * secrets are masked in everything it writes. On stderr and in banners, the continuation lines of
 * a message are indented, so nothing a value contains can print a line of its own at column 0
 * (only banner titles start there, which is what log readers such as test-sqs rely on).
 */
export class Logger {
  private readonly colourOut: boolean;
  private readonly colourErr: boolean;
  private readonly secrets: string[] = [];

  constructor(readonly output: Output = processOutput, env: NodeJS.ProcessEnv = process.env) {
    this.colourOut = useColour(output.out, env);
    this.colourErr = useColour(output.err, env);
  }

  /** Masks `value` in all later output (values shorter than 6 characters are not worth masking). */
  addSecret(value: string | undefined): void {
    const secret = value?.trim();
    if (secret && secret.length >= 6 && !this.secrets.includes(secret)) this.secrets.push(secret);
  }

  /** The text with every registered secret replaced by `***`. */
  redact(text: string): string {
    return this.secrets.reduce((out, secret) => out.split(secret).join("***"), text);
  }

  private clean(text: string, indent: string | undefined): string {
    const safe = printable(this.redact(text));
    return indent === undefined ? safe : safe.replace(/\n/g, `\n${indent}`);
  }

  /** A result line, on stdout (multi-line results keep their own layout). */
  result(line = ""): void {
    this.output.out.write(`${this.clean(line, undefined)}\n`);
  }

  info(line = ""): void {
    this.output.err.write(`${this.clean(line, "  ")}\n`);
  }

  step(line: string): void {
    this.output.err.write(`${paint("==>", "bold", this.colourErr)} ${this.clean(line, "    ")}\n`);
  }

  ok(line: string): void {
    this.output.err.write(`${paint("✓", "green", this.colourErr)} ${this.clean(line, "  ")}\n`);
  }

  warn(line: string): void {
    this.output.err.write(`${paint("WARNING:", "yellow", this.colourErr)} ${this.clean(line, "  ")}\n`);
  }

  error(line: string): void {
    this.output.err.write(`${paint("ERROR:", "red", this.colourErr)} ${this.clean(line, "  ")}\n`);
  }

  /** A framed block such as the SUCCESS / ERROR banners; `toStdout` for results. */
  banner(title: string, lines: string[], style: Style, toStdout = false): void {
    const rule = "=".repeat(64);
    const enabled = toStdout ? this.colourOut : this.colourErr;
    const body = lines.map((l) => `  ${this.clean(l, "    ")}`);
    const text = [rule, paint(this.clean(title, "    "), style, enabled), ...body, rule, ""].join("\n");
    (toStdout ? this.output.out : this.output.err).write(text);
  }
}
