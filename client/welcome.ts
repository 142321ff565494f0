import type { WelcomeMessage } from '../protocol/tracy/handshake.js';

/** What the platform (Node.js, a browser) says about itself in the welcome and broadcasts. */
export interface PlatformInfo {
  /** process.pid; 0 in browsers */
  pid: number;
  /** CpuArchitecture value (0 unknown, 1 x86, 2 x64, 3 arm32, 4 arm64) */
  cpuArch: number;
  /** Free text, one fact per line: OS, runtime, program, user, CPU, RAM. */
  hostInfo: string;
  /** Default program name when the app sets none. */
  defaultAppName: string;
}

/** The time facts of a session, fixed when the client is created. */
export interface SessionClock {
  /** Ticks (ns) not later than any event: the capture's time zero. */
  initBeginNs: number;
  resolutionNs: number;
  /** Unix seconds when the client started. */
  epochS: number;
}

/**
 * The WelcomeMessage of an SDK session (tracy-protocol.md 1.4, appendix C): timerMul 1.0 (our
 * ticks are nanoseconds), initEnd = initBegin, exectime 0 and flags 0 (no code transfer, not
 * on-demand: the receiver then never asks for source files), no sampling.
 */
export function sdkWelcome(appName: string, platform: PlatformInfo, clock: SessionClock): WelcomeMessage {
  const initBegin = BigInt(Math.round(clock.initBeginNs));
  return {
    timerMul: 1.0,
    initBegin,
    initEnd: initBegin,
    resolution: BigInt(Math.max(1, Math.round(clock.resolutionNs))),
    epoch: BigInt(Math.floor(clock.epochS)),
    exectime: 0n,
    pid: BigInt(platform.pid),
    samplingPeriod: 0n,
    flags: 0,
    cpuArch: platform.cpuArch,
    cpuManufacturer: '',
    cpuId: 0,
    programName: appName,
    hostInfo: platform.hostInfo,
  };
}
