import type { Readable, Writable } from "node:stream";
import { UserError } from "./errors.ts";

/** Asks questions on `output` and reads answers, one line each, from `input` (a TTY or a pipe). */
export interface Prompter {
  /** The answer, or `defaultValue` on an empty line. */
  ask(question: string, defaultValue?: string): Promise<string>;
  /** y/yes or n/no (any case); an empty line is `defaultYes`. */
  confirm(question: string, defaultYes?: boolean): Promise<boolean>;
  close(): void;
}

const CR = 0x0d;
const LF = 0x0a;
const CTRL_C = 0x03;
const BACKSPACE = [0x7f, 0x08];

/**
 * The one reader of an input stream that every prompt shares (see `lineReaderFor`): it keeps what
 * was read past a line for the next question, and remembers that the input ended, so no prompt
 * waits for data or an 'end' event that another prompt already consumed. Reads only while a
 * question waits for its answer.
 */
export class LineReader {
  private buffer = Buffer.alloc(0);
  private ended: boolean;
  private afterCr = false;
  private wake: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly input: Readable) {
    this.ended = input.readableEnded || input.destroyed;
    const onEnd = () => {
      this.ended = true;
      this.notify();
    };
    input.on("end", onEnd);
    input.on("close", onEnd);
    input.on("error", onEnd);
    input.on("data", (chunk: Buffer | string) => {
      this.buffer = Buffer.concat([this.buffer, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)]);
      if (!this.wake) input.pause();
      this.notify();
    });
    input.pause();
  }

  /**
   * The next line (without its CR, LF or CRLF), or undefined when the input ended first; a last
   * line without a newline still counts. `raw`: the bytes come from a terminal in raw mode, so
   * Backspace edits and Ctrl-C rejects with "Cancelled by user".
   */
  nextLine(raw = false): Promise<string | undefined> {
    const turn = this.queue.then(() => this.readLine(raw));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** Stops reading (pending data stays buffered for a later question). */
  pause(): void {
    if (!this.wake) this.input.pause();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async readLine(raw: boolean): Promise<string | undefined> {
    const bytes: number[] = [];
    try {
      for (;;) {
        let i = 0;
        for (; i < this.buffer.length; i++) {
          const byte = this.buffer[i]!;
          if (byte === LF && this.afterCr) {
            this.afterCr = false;
            continue;
          }
          this.afterCr = byte === CR;
          if (byte === LF || byte === CR) {
            this.buffer = this.buffer.subarray(i + 1);
            return Buffer.from(bytes).toString("utf8");
          }
          if (raw && byte === CTRL_C) {
            this.buffer = this.buffer.subarray(i + 1);
            throw new UserError("Cancelled by user");
          }
          if (raw && BACKSPACE.includes(byte)) {
            while (bytes.length && (bytes.at(-1)! & 0xc0) === 0x80) bytes.pop();
            bytes.pop();
            continue;
          }
          bytes.push(byte);
        }
        this.buffer = this.buffer.subarray(i);
        if (this.ended || this.input.readableEnded || this.input.destroyed) {
          this.ended = true;
          return bytes.length ? Buffer.from(bytes).toString("utf8") : undefined;
        }
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.input.resume();
        });
      }
    } finally {
      this.wake = undefined;
      this.input.pause();
    }
  }
}

const readers = new WeakMap<Readable, LineReader>();

/** The shared reader of `input`: every prompt on the same stream must read through it. */
export function lineReaderFor(input: Readable): LineReader {
  let reader = readers.get(input);
  if (!reader) readers.set(input, (reader = new LineReader(input)));
  return reader;
}

/**
 * A prompter over two streams. Lines are buffered, so answers piped in all at once are each
 * given to the next question. When input ends before an answer, throws a UserError that
 * points at the flags that avoid the question.
 */
export function createPrompter(input: Readable, output: Writable, flagHint = "Give the answers as flags, or --yes."): Prompter {
  const reader = lineReaderFor(input);
  const next = async (question: string): Promise<string> => {
    output.write(question);
    const line = await reader.nextLine();
    if (line === undefined) {
      output.write("\n");
      throw new UserError(`No answer to "${question.trim()}": the input ended.`, flagHint);
    }
    if (!(input as { isTTY?: boolean }).isTTY) output.write(`${line}\n`);
    return line.trim();
  };
  return {
    async ask(question, defaultValue) {
      const answer = await next(`${question}${defaultValue ? ` [${defaultValue}]` : ""}: `);
      return answer || defaultValue || "";
    },
    async confirm(question, defaultYes = true) {
      for (;;) {
        const answer = (await next(`${question} ${defaultYes ? "[Y/n]" : "[y/N]"} `)).toLowerCase();
        if (!answer) return defaultYes;
        if (answer === "y" || answer === "yes") return true;
        if (answer === "n" || answer === "no") return false;
        output.write("Please answer y or n.\n");
      }
    },
    close() {
      reader.pause();
    },
  };
}
