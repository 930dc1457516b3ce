/**
 * The values of proto/wire.proto's enums for modules that must not load the generated code (the
 * merge worker, see proto-wire.ts). Typed as the generated enums, so they mix with them freely; a
 * unit test (test/unit/proto-wire.test.ts) checks every value against src/gen.
 */
import type { wire } from '../gen/index.js';

export const MemberState = {
  ALIVE: 0 as wire.MemberState.ALIVE,
  SUSPECT: 1 as wire.MemberState.SUSPECT,
  DEAD: 2 as wire.MemberState.DEAD,
  LEFT: 3 as wire.MemberState.LEFT,
} as const;

export const FrameKind = {
  FRAME_UNSPECIFIED: 0 as wire.FrameKind.FRAME_UNSPECIFIED,
  FRAME_COMPOUND_V1: 1 as wire.FrameKind.FRAME_COMPOUND_V1,
  FRAME_LABEL: 2 as wire.FrameKind.FRAME_LABEL,
  FRAME_ENCRYPTED: 3 as wire.FrameKind.FRAME_ENCRYPTED,
  FRAME_CRC32: 4 as wire.FrameKind.FRAME_CRC32,
  FRAME_COMPRESSED: 5 as wire.FrameKind.FRAME_COMPRESSED,
} as const;
