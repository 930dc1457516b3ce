/**
 * memberlist's Vsn and the six version fields that carry it on the wire, free of the generated code
 * so that the merge worker can use them (src/codec/proto-wire.ts says why it must not load it).
 */

/** memberlist's Vsn: [protocolMin, protocolMax, protocolCur, delegateMin, delegateMax, delegateCur]. */
export type ProtocolVersions = readonly [number, number, number, number, number, number];

/** The six version fields as Alive, PushNodeState and Member spell them. */
export interface VersionFields {
  protocolMin: number;
  protocolMax: number;
  protocolCur: number;
  delegateMin: number;
  delegateMax: number;
  delegateCur: number;
}

export function versionFields(vsn: ProtocolVersions): VersionFields {
  return {
    protocolMin: vsn[0],
    protocolMax: vsn[1],
    protocolCur: vsn[2],
    delegateMin: vsn[3],
    delegateMax: vsn[4],
    delegateCur: vsn[5],
  };
}

/** The versions an alive message (or anything with the six version fields) carries. */
export function vsnOfAlive(a: Partial<Record<keyof VersionFields, number | null>>): ProtocolVersions {
  return [
    a.protocolMin ?? 0,
    a.protocolMax ?? 0,
    a.protocolCur ?? 0,
    a.delegateMin ?? 0,
    a.delegateMax ?? 0,
    a.delegateCur ?? 0,
  ];
}
