// The framing of a resumable tunnel (docs/architecture.md "Resumable streams"): what the client and
// the connector put on the byte stream between them once both agreed to resume. Pure: encoders, an
// incremental parser that refuses hostile input, and a meter the edge uses to count payload bytes.

/** Frame types. Offsets are byte positions in one direction's stream; a FIN takes one position, as in TCP. */
export const FRAME = { data: 1, ack: 2, fin: 3, reset: 4 } as const;

/**
 * What a RESET carries in its offset field: why the sender gave up. `socketFailed`: its own real
 * socket failed (seen from the client, the origin failed), so the other end can say so.
 */
export const RESET_REASON = { unspecified: 0, socketFailed: 1 } as const;

/** type (1) + offset (8); a data frame adds its payload length (4). */
const HEADER_BYTES = 9;
const DATA_HEADER_BYTES = 13;

/** Offsets travel as 64-bit integers but must stay exact in a JavaScript number. */
const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

/** A data frame's payload may come as several frames, each a piece with its own offset. */
export type Frame =
  | { type: typeof FRAME.data; offset: number; payload: Buffer }
  | { type: typeof FRAME.ack | typeof FRAME.fin | typeof FRAME.reset; offset: number };

export class ResumeProtocolError extends Error {
  readonly code = 'RESUME_PROTOCOL';
}

function writeOffset(target: Buffer, offset: number): void {
  target.writeUInt32BE(Math.floor(offset / 2 ** 32), 1);
  target.writeUInt32BE(offset % 2 ** 32, 5);
}

function readOffset(source: Buffer, at: number): number {
  const offset = source.readUInt32BE(at + 1) * 2 ** 32 + source.readUInt32BE(at + 5);
  if (offset > MAX_OFFSET) throw new ResumeProtocolError(`offset ${offset} is out of range`);
  return offset;
}

/** The 13-byte header of a data frame; the payload is sent after it as its own buffer (no copy). */
export function dataHeader(offset: number, length: number): Buffer {
  const header = Buffer.allocUnsafe(DATA_HEADER_BYTES);
  header[0] = FRAME.data;
  writeOffset(header, offset);
  header.writeUInt32BE(length, 9);
  return header;
}

export function controlFrame(type: typeof FRAME.ack | typeof FRAME.fin | typeof FRAME.reset, offset: number): Buffer {
  const frame = Buffer.allocUnsafe(HEADER_BYTES);
  frame[0] = type;
  writeOffset(frame, offset);
  return frame;
}

/**
 * Splits a byte stream into frames, whatever the chunking (a WebSocket message or an HTTP/2 DATA
 * frame may hold part of a frame or several). A data frame's payload is handed on in pieces as it
 * arrives, each with its own offset, never copied: the payloads that straddle chunks would
 * otherwise be copied at both ends and at the edge. Throws ResumeProtocolError on an unknown type
 * or a payload larger than `maxPayload`, from the header, before any of the payload is taken.
 */
export class FrameParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Payload bytes still to come of the data frame being read, and the offset of the next one. */
  private payloadLeft = 0;
  private payloadOffset = 0;

  constructor(private readonly maxPayload: number) {}

  push(chunk: Buffer): Frame[] {
    if (chunk.length === 0) return [];
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.payloadLeft > 0) {
        if (this.pendingBytes === 0) return frames;
        const piece = this.take(Math.min(this.payloadLeft, this.pending[0]!.length));
        frames.push({ type: FRAME.data, offset: this.payloadOffset, payload: piece });
        this.payloadOffset += piece.length;
        this.payloadLeft -= piece.length;
        continue;
      }
      const frame = this.header();
      if (!frame) return frames;
      if (frame.type === FRAME.data && this.payloadLeft > 0) continue; // its payload follows in pieces
      frames.push(frame);
    }
  }

  /** The next frame's header; a data frame with a payload only starts `payloadLeft`. */
  private header(): Frame | undefined {
    if (this.pendingBytes < HEADER_BYTES) return undefined;
    const head = this.peek(DATA_HEADER_BYTES);
    const type = head[0];
    if (type === FRAME.ack || type === FRAME.fin || type === FRAME.reset) {
      const offset = readOffset(head, 0);
      this.take(HEADER_BYTES);
      return { type, offset };
    }
    if (type !== FRAME.data) throw new ResumeProtocolError(`unknown frame type ${type}`);
    if (head.length < DATA_HEADER_BYTES) return undefined;
    const length = head.readUInt32BE(9);
    if (length > this.maxPayload)
      throw new ResumeProtocolError(`data frame of ${length} bytes exceeds ${this.maxPayload}`);
    const offset = readOffset(head, 0);
    this.take(DATA_HEADER_BYTES);
    this.payloadLeft = length;
    this.payloadOffset = offset;
    return { type, offset, payload: EMPTY };
  }

  /** The first `count` bytes (fewer if not yet there), without taking them; headers only. */
  private peek(count: number): Buffer {
    const first = this.pending[0]!;
    if (first.length >= count || this.pending.length === 1) return first.subarray(0, count);
    return Buffer.concat(this.pending, Math.min(count, this.pendingBytes)).subarray(0, count);
  }

  /** Takes `count` bytes: a view when they lie in the first chunk (payload pieces always do). */
  private take(count: number): Buffer {
    this.pendingBytes -= count;
    const first = this.pending[0]!;
    if (first.length === count) return this.pending.shift()!;
    if (first.length > count) {
      this.pending[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = Buffer.allocUnsafe(count);
    let copied = 0;
    while (copied < count) {
      const head = this.pending[0]!;
      const piece = Math.min(head.length, count - copied);
      head.copy(out, copied, 0, piece);
      copied += piece;
      if (piece === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(piece);
    }
    return out;
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Counts the payload bytes new to this direction (a replay is not counted twice) on a framed
 * stream, for the edge's audit and metrics. It never throws: the ends judge the protocol.
 */
export class PayloadMeter {
  private readonly parser: FrameParser;
  private highest = -1;
  private broken = false;
  bytes = 0;
  /** A FIN frame passed: this direction's data has ended (a half-close inside the framing). */
  ended = false;

  constructor(maxPayload: number) {
    this.parser = new FrameParser(maxPayload);
  }

  push(chunk: Buffer): void {
    if (this.broken) return;
    try {
      for (const frame of this.parser.push(chunk)) {
        if (frame.type === FRAME.fin) this.ended = true;
        if (frame.type !== FRAME.data) continue;
        const end = frame.offset + frame.payload.length;
        if (this.highest < 0) this.highest = frame.offset;
        if (end > this.highest) {
          this.bytes += end - this.highest;
          this.highest = end;
        }
      }
    } catch {
      this.broken = true;
    }
  }
}
