/**
 * Keeps at most `limit` bytes of a stream, the most recent ones: a failing command's last lines say
 * why it failed, so the tail is what is worth keeping when output is long.
 */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(readonly limit: number) {}

  push(chunk: Buffer): void {
    if (this.limit <= 0) {
      if (chunk.length > 0) this.truncated = true;
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit) {
      const first = this.chunks[0];
      if (!first) break;
      const excess = this.size - this.limit;
      this.truncated = true;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
      }
    }
  }

  /** The kept bytes as UTF-8; a character cut in half at the start of a truncated tail is dropped. */
  text(): string {
    let bytes = Buffer.concat(this.chunks, this.size);
    if (this.truncated) {
      let skip = 0;
      // UTF-8 continuation bytes are 10xxxxxx; at most three can precede a character's start.
      while (skip < 3 && skip < bytes.length && ((bytes[skip] ?? 0) & 0xc0) === 0x80) skip++;
      bytes = bytes.subarray(skip);
    }
    return bytes.toString("utf8");
  }
}
