// One end of a resumable tunnel (docs/architecture.md "Resumable streams"): a Duplex the local
// socket (client) or the origin socket (connector) is piped to, that outlives the transport under
// it. Bytes written are numbered and kept until the peer acknowledges them; after the transport
// breaks, a new one is attached and both ends replay from what the other acknowledged. Used by the
// client (src/core/resumable-tunnel.ts) and the connector (src/connector/resumable-origins.ts).
import { Duplex } from 'node:stream';
import { controlFrame, dataHeader, FRAME, FrameParser, RESET_REASON, type Frame } from './resumable-frames.js';
import { ReplayBuffer } from './replay-buffer.js';

export interface ResumableOptions {
  /** Unacknowledged bytes kept each way; writes wait (backpressure) while this much is held. */
  bufferBytes: number;
  /** How long the stream may stay without a transport before both ends give up (reset). */
  windowMs: number;
  /** Largest data frame accepted from the peer; our own frames are at most this large too. */
  maxFrameBytes: number;
}

/** Why a resumable stream gave up; `code` is ECONNRESET so a pipeline treats it as a reset. */
export class StreamResetError extends Error {
  readonly code = 'ECONNRESET';
  constructor(
    message: string,
    /** The other end reset because its own socket failed (RESET_REASON.socketFailed). */
    readonly peerSocketFailed = false,
  ) {
    super(message);
  }
}

/** A frame no larger than this is sent for a bigger write, so acks keep flowing. */
const SEND_SLICE = 64 * 1024;

export declare interface ResumableStream {
  on(event: 'detached', listener: () => void): this;
  on(event: 'attached', listener: (replayed: number) => void): this;
  on(event: 'done', listener: () => void): this;
  on(event: string, listener: (...args: never[]) => void): this;
}

export class ResumableStream extends Duplex {
  private readonly replay = new ReplayBuffer();
  private transport: Duplex | undefined;
  private parser: FrameParser;
  /** Data bytes received in order; the next expected data offset. */
  private received = 0;
  private unacknowledged = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private windowTimer: NodeJS.Timeout | undefined;
  /** A new transport sends nothing until the peer's first ack says where to replay from. */
  private awaitingPeerAck = false;
  private peerAcknowledged = 0;
  private finSent = false;
  private finAcknowledged = false;
  private finReceived = false;
  private waitingWrite: (() => void) | undefined;
  private finished = false;
  /** Bytes sent again after the last attach; for the audit and metrics. */
  replayedBytes = 0;
  detachedAt: number | undefined;

  constructor(private readonly options: ResumableOptions) {
    // Not autoDestroy: both ways can end before our end of stream is acknowledged (checkDone).
    super({ allowHalfOpen: true, autoDestroy: false, highWaterMark: 256 * 1024 });
    this.parser = new FrameParser(options.maxFrameBytes);
  }

  /** Bytes sent and received so far (data only), for the resume request and the audit. */
  get offsets(): { sent: number; received: number } {
    return { sent: this.replay.end, received: this.received };
  }

  get attached(): boolean {
    return this.transport !== undefined;
  }

  /**
   * Carries the stream over `transport` (replacing any previous one, which is destroyed): sends our
   * received offset, and replays once the peer's offset arrives.
   */
  attach(transport: Duplex): void {
    if (this.destroyed || this.finished) {
      transport.destroy();
      return;
    }
    this.dropTransport();
    clearTimeout(this.windowTimer);
    this.transport = transport;
    this.parser = new FrameParser(this.options.maxFrameBytes);
    this.awaitingPeerAck = true;
    transport.on('error', () => {}); // its end is what matters, seen below
    transport.on('data', (chunk: Buffer) => this.onTransportData(transport, chunk));
    const lost = () => this.onTransportLost(transport);
    transport.once('end', lost);
    transport.once('close', lost);
    this.sendAck();
  }

  /** Ends the stream abnormally: the peer is told to reset, and this end errors with `reason`. */
  abort(reason: string): void {
    this.fail(reason);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const offset = this.replay.end;
    this.replay.append(chunk);
    if (this.transport && !this.awaitingPeerAck) this.sendData(offset, chunk);
    if (this.replay.size < this.options.bufferBytes) callback();
    else this.waitingWrite = () => callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finSent = true;
    if (this.transport && !this.awaitingPeerAck) this.transport.write(controlFrame(FRAME.fin, this.replay.end));
    callback();
  }

  override _read(): void {
    this.transport?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.ackTimer);
    clearTimeout(this.windowTimer);
    const transport = this.transport;
    if (transport && !this.finished) {
      // Any end before both ways finished is abnormal: the peer resets its socket too, at once
      // rather than after the window. end(), not destroy(), so the frame is flushed.
      this.transport = undefined;
      transport.removeAllListeners('data');
      // An error that is not ours to name came from the socket this end carries.
      const reason =
        error && !(error instanceof StreamResetError) ? RESET_REASON.socketFailed : RESET_REASON.unspecified;
      transport.write(controlFrame(FRAME.reset, reason));
      transport.end();
      setTimeout(() => transport.destroy(), 1_000).unref();
    }
    this.dropTransport();
    callback(error);
  }

  private onTransportData(transport: Duplex, chunk: Buffer): void {
    if (transport !== this.transport) return;
    let frames: Frame[];
    try {
      frames = this.parser.push(chunk);
    } catch (error) {
      return this.abort(`protocol error: ${(error as Error).message}`);
    }
    for (const frame of frames) {
      const problem = this.onFrame(frame);
      if (problem) return this.abort(`protocol error: ${problem}`);
      if (this.destroyed || transport !== this.transport) return;
    }
  }

  /** Applies one frame; returns what is wrong with it, if anything. */
  private onFrame(frame: Frame): string | undefined {
    switch (frame.type) {
      case FRAME.data: {
        if (this.finReceived) return 'data after the end of the stream';
        if (frame.offset > this.received) return `data at ${frame.offset}, expected ${this.received} (a gap)`;
        const end = frame.offset + frame.payload.length;
        if (end <= this.received) return undefined; // replayed: we have it
        const fresh = frame.payload.subarray(this.received - frame.offset);
        this.received = end;
        this.unacknowledged += fresh.length;
        if (!this.push(fresh)) this.transport?.pause();
        this.scheduleAck();
        return undefined;
      }
      case FRAME.ack:
        return this.onAck(frame.offset);
      case FRAME.fin:
        if (this.finReceived) return undefined;
        if (frame.offset !== this.received) return `end at ${frame.offset}, expected ${this.received}`;
        this.finReceived = true;
        this.push(null);
        this.sendAck();
        this.checkDone();
        return undefined;
      case FRAME.reset:
        if (frame.offset === RESET_REASON.socketFailed)
          this.fail('the other end reset the stream: its socket failed', true);
        else this.fail('the other end reset the stream');
        return undefined;
    }
  }

  private onAck(offset: number): string | undefined {
    const sentSequence = this.replay.end + (this.finSent ? 1 : 0);
    if (offset > sentSequence) return `acknowledges ${offset}, only ${sentSequence} sent`;
    if (offset < this.replay.start) return `acknowledges ${offset}, already acknowledged ${this.replay.start}`;
    this.peerAcknowledged = Math.max(this.peerAcknowledged, offset);
    this.replay.acknowledge(offset);
    if (this.finSent && offset === sentSequence) this.finAcknowledged = true;
    if (this.awaitingPeerAck) this.replayFrom(offset);
    if (this.waitingWrite && this.replay.size < this.options.bufferBytes) {
      const release = this.waitingWrite;
      this.waitingWrite = undefined;
      release();
    }
    this.checkDone();
    return undefined;
  }

  /** The first ack on a new transport: send what the peer has not got, then carry on live. */
  private replayFrom(offset: number): void {
    this.awaitingPeerAck = false;
    let replayed = 0;
    for (const { offset: at, chunk } of this.replay.from(offset)) {
      this.sendData(at, chunk);
      replayed += chunk.length;
    }
    if (this.finSent && !this.finAcknowledged) this.transport!.write(controlFrame(FRAME.fin, this.replay.end));
    this.replayedBytes += replayed;
    this.emit('attached', replayed);
  }

  private sendData(offset: number, chunk: Buffer): void {
    const transport = this.transport!;
    // Corked, so each header leaves with its payload in one writev rather than a write of its own.
    transport.cork();
    for (let from = 0; from < chunk.length; from += SEND_SLICE) {
      const slice = chunk.subarray(from, from + SEND_SLICE);
      transport.write(dataHeader(offset + from, slice.length));
      transport.write(slice);
    }
    transport.uncork();
  }

  private scheduleAck(): void {
    if (this.unacknowledged >= this.options.bufferBytes / 4) return this.sendAck();
    this.ackTimer ??= setTimeout(() => this.sendAck(), 20);
  }

  private sendAck(): void {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.unacknowledged = 0;
    if (!this.transport || this.transport.destroyed) return;
    this.transport.write(controlFrame(FRAME.ack, this.received + (this.finReceived ? 1 : 0)));
  }

  /** Both ways ended and acknowledged: the transport can close cleanly and nothing is resumed. */
  private checkDone(): void {
    if (this.finished || !this.finSent || !this.finAcknowledged || !this.finReceived) return;
    this.finished = true;
    clearTimeout(this.windowTimer);
    const transport = this.transport;
    this.transport = undefined;
    transport?.end();
    this.emit('done');
    // Destroying now would drop what the local side has not read yet.
    if (this.readableEnded) this.destroy();
    else this.once('end', () => this.destroy());
  }

  private onTransportLost(transport: Duplex): void {
    if (transport !== this.transport) return;
    this.dropTransport();
    if (this.finished || this.destroyed) return;
    this.detachedAt = Date.now();
    this.windowTimer = setTimeout(
      () => this.fail(`not resumed within ${Math.round(this.options.windowMs / 1000)} s`),
      this.options.windowMs,
    );
    this.emit('detached');
  }

  private dropTransport(): void {
    const transport = this.transport;
    if (!transport) return;
    this.transport = undefined;
    transport.removeAllListeners('data');
    transport.removeAllListeners('end');
    transport.removeAllListeners('close');
    transport.destroy();
  }

  private fail(reason: string, peerSocketFailed = false): void {
    if (this.destroyed) return;
    this.destroy(new StreamResetError(reason, peerSocketFailed));
  }
}
