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

/** Line-oriented logger over an Output; every command prints through one of these. */
export class Logger {
  private readonly colourOut: boolean;
  private readonly colourErr: boolean;

  constructor(readonly output: Output = processOutput, env: NodeJS.ProcessEnv = process.env) {
    this.colourOut = useColour(output.out, env);
    this.colourErr = useColour(output.err, env);
  }

  /** A result line, on stdout. */
  result(line = ""): void {
    this.output.out.write(`${line}\n`);
  }

  info(line = ""): void {
    this.output.err.write(`${line}\n`);
  }

  step(line: string): void {
    this.output.err.write(`${paint("==>", "bold", this.colourErr)} ${line}\n`);
  }

  ok(line: string): void {
    this.output.err.write(`${paint("✓", "green", this.colourErr)} ${line}\n`);
  }

  warn(line: string): void {
    this.output.err.write(`${paint("WARNING:", "yellow", this.colourErr)} ${line}\n`);
  }

  error(line: string): void {
    this.output.err.write(`${paint("ERROR:", "red", this.colourErr)} ${line}\n`);
  }

  /** A framed block such as the SUCCESS / ERROR banners; `toStdout` for results. */
  banner(title: string, lines: string[], style: Style, toStdout = false): void {
    const rule = "=".repeat(64);
    const enabled = toStdout ? this.colourOut : this.colourErr;
    const text = [rule, paint(title, style, enabled), ...lines.map((l) => `  ${l}`), rule, ""].join("\n");
    (toStdout ? this.output.out : this.output.err).write(text);
  }
}
