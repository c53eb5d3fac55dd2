// HTTP/2 flow-control windows for the edge ↔ connector leg. The per-stream window bounds how much
// one slow reader can make either side buffer; the session window lets many streams run at once.
export const H2_STREAM_WINDOW = 1024 * 1024;
export const H2_SESSION_WINDOW = 32 * 1024 * 1024;
export const H2_SETTINGS = {
  initialWindowSize: H2_STREAM_WINDOW,
  maxFrameSize: 64 * 1024,
  maxConcurrentStreams: 10_000,
  enablePush: false,
} as const;
/** Memory nghttp2 may use per session before refusing new streams (MB). */
export const H2_MAX_SESSION_MEMORY_MB = 256;
