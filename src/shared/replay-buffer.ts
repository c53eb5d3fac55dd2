// The bytes one end of a resumable stream has sent and the peer has not acknowledged yet
// (docs/architecture.md "Resumable streams"). Pure: no sockets, no timers.
/** Unacknowledged bytes one way: a FIFO of chunks from offset `start` to `end`. */
export class ReplayBuffer {
  private chunks: Buffer[] = [];
  start = 0;
  end = 0;

  get size(): number {
    return this.end - this.start;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.end += chunk.length;
  }

  /** Drops everything before `offset` (the peer has it). */
  acknowledge(offset: number): void {
    let drop = Math.min(offset, this.end) - this.start;
    while (drop > 0) {
      const first = this.chunks[0]!;
      if (first.length <= drop) {
        this.chunks.shift();
        drop -= first.length;
        this.start += first.length;
      } else {
        this.chunks[0] = first.subarray(drop);
        this.start += drop;
        drop = 0;
      }
    }
  }

  /** The chunks from `offset` to the end, with each one's offset. */
  *from(offset: number): Generator<{ offset: number; chunk: Buffer }> {
    let position = this.start;
    for (const chunk of this.chunks) {
      const chunkEnd = position + chunk.length;
      if (chunkEnd > offset) {
        const skip = Math.max(0, offset - position);
        yield { offset: position + skip, chunk: skip > 0 ? chunk.subarray(skip) : chunk };
      }
      position = chunkEnd;
    }
  }
}
