// A progress line that redraws itself on a terminal and prints only changes elsewhere (CI logs).
export interface Output {
  write(text: string): void;
  isTTY?: boolean | undefined;
}

export class ProgressReporter {
  #last = '';
  #open = false;
  constructor(private readonly out: Output) {}

  update(line: string): void {
    if (line === this.#last) return;
    this.#last = line;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[2K${line}`);
      this.#open = true;
    } else {
      this.out.write(`${line}\n`);
    }
  }

  done(line?: string): void {
    if (line !== undefined) this.update(line);
    if (this.#open) this.out.write('\n');
    this.#open = false;
  }
}
