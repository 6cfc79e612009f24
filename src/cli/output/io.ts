/** Where a command writes: `process.stdout` in the bin, a buffer in tests. */
export interface Output {
  write(chunk: string | Uint8Array): boolean;
  /** True when a person is looking at it; binary output is refused there. */
  readonly isTTY?: boolean;
}

/** The two streams every command writes to; the core never prints, only the CLI does. */
export interface Io {
  readonly stdout: Output;
  readonly stderr: Output;
}

/** Writes one line of text. */
export function writeLine(out: Output, text: string): void {
  out.write(`${text}\n`);
}
