/** Handshake, framing and timing constants of Tracy 0.14.0 (tracy-protocol.md, appendix B). */

export const PROTOCOL_VERSION = 82;
export const BROADCAST_VERSION = 3;
/** "TracyPrf": the 8 bytes the receiving side sends first. */
export const SHIBBOLETH: Uint8Array = Uint8Array.of(0x54, 0x72, 0x61, 0x63, 0x79, 0x50, 0x72, 0x66);
export const SHIBBOLETH_SIZE = 8;
/** Shibboleth + u32 protocol version. */
export const HANDSHAKE_SIZE = 12;

export const HandshakeStatus = {
  Pending: 0,
  Welcome: 1,
  ProtocolMismatch: 2,
  NotAvailable: 3,
  Dropped: 4,
} as const;
export const HANDSHAKE_STATUS_NAMES: readonly string[] = Object.keys(HandshakeStatus);

export const WelcomeFlag = {
  OnDemand: 0x01,
  IgnoreMemFaults: 0x02,
  CodeTransfer: 0x04,
  CombineSamples: 0x08,
  IdentifySamples: 0x10,
} as const;

export const CpuArchitecture = { Unknown: 0, X86: 1, X64: 2, Arm32: 3, Arm64: 4 } as const;

export const WELCOME_SIZE = 1170;
export const ON_DEMAND_PAYLOAD_SIZE = 16;
export const SERVER_QUERY_PACKET_SIZE = 13;

/** Maximum decompressed size of one frame. */
export const TARGET_FRAME_SIZE = 262144;
/** LZ4_compressBound(TargetFrameSize): the maximum compressed size of one frame. */
export const LZ4_SIZE = 263188;
/** Maximum LZ4 back-reference distance: the history kept in front of every block. */
export const LZ4_HISTORY_SIZE = 65536;

/** Length offset of SingleStringData / SecondStringData (the u16 holds length - 256). */
export const PROTOCOL_OFFSET_8BIT = 256;
/** Offset of the 32-bit compact time form. */
export const PROTOCOL_OFFSET_16BIT = 65536;
/** Offset of non-negative 64-bit compact times: 2^32 + 2^16. */
export const PROTOCOL_OFFSET_32BIT = 4295032832;

export const PlotFormat = { Number: 0, Memory: 1, Percentage: 2, Watt: 3 } as const;
export const MessageSeverity = { Trace: 0, Debug: 1, Info: 2, Warning: 3, Error: 4, Fatal: 5 } as const;
export const MessageSource = { User: 0, Tracy: 1 } as const;
/** Info severity, user source: what TracyMessage* sends. */
export const MESSAGE_METADATA_DEFAULT = 0x20;

export const TWO_POW_32 = 4294967296;
