/**
 * Node configuration: the fully resolved {@link MemberlistConfig}, the lan/wan/local presets (memberlist's
 * DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig value for value, each with its reason), and
 * {@link resolveConfig}, which merges user options over a preset and validates every field with a message
 * that names the field, what would be accepted, and what was given.
 *
 * Only data lives here. Objects the node is wired with (transport, logger, clock, random, delegates) are
 * the node facade's options, not configuration, and are passed through `ignoredKeys`.
 *
 * Units: every duration is an integer number of milliseconds and its name ends in `Ms`.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { ConfigError } from './errors.js';

/** Which preset to start from: memberlist's LAN, WAN or local-loopback defaults. */
export type Profile = 'lan' | 'wan' | 'local';

/** The wire formats a node can speak (config `wire`). */
export type WireFormat = 'protobuf' | 'memberlist';

/** Lowest protocol version memberlist speaks (net.go `ProtocolVersionMin`). */
export const PROTOCOL_VERSION_MIN = 1;
/** memberlist's default protocol version (net.go `ProtocolVersion2Compatible`). */
export const PROTOCOL_VERSION_2_COMPATIBLE = 2;
/** Highest protocol version memberlist speaks (net.go `ProtocolVersionMax`): v5 adds the packet CRC. */
export const PROTOCOL_VERSION_MAX = 5;
/**
 * The protocol max from which a peer reads our compression layer: compressed packets and stream
 * frames go only to members that announced at least this (those below still get everything plain,
 * and what they send compressed or not is read). The protobuf wire's v5 = CRC32 and compression layers.
 */
export const PROTOCOL_COMPRESSION = 5;
/** memberlist's node meta limit (net.go `MetaMaxSize`); the default for {@link MemberlistConfig.metaMaxSize}. */
export const META_MAX_SIZE = 512;
/** The longest label a label header can carry: its length is one byte (label.go `LabelMaxSize`). */
export const LABEL_MAX_SIZE = 255;
/** The longest node name we accept, in UTF-8 bytes. */
export const NAME_MAX_SIZE = 255;
/** The largest UDP payload that fits in an IPv4 datagram: 65535 − 20 (IP header) − 8 (UDP header). */
export const MAX_UDP_PAYLOAD = 65_507;
/**
 * The longest duration a Node timer can hold: setTimeout silently turns anything above 2^31 − 1 ms
 * (about 24.8 days) into 1 ms, which would make a "very long" interval fire continuously.
 */
export const MAX_DURATION_MS = 2_147_483_647;
/** The largest stream frame we let a user configure: a single allocation beyond 1 GiB is a memory hazard. */
export const MAX_STREAM_FRAME_BYTES_LIMIT = 1_073_741_824;

/**
 * The fully resolved, validated configuration of one node. Every field is data; it is frozen once resolved.
 * Field names follow memberlist's Config in camelCase; durations end in `Ms`.
 */
export interface MemberlistConfig {
  /**
   * This node's name, unique in the cluster: members are keyed by it, so two nodes with one name fight
   * over a single entry (each refutes the other's address as a conflict). Non-empty, at most 255 UTF-8
   * bytes so the codec can bound name fields before allocating. Defaults to `os.hostname()`, which is
   * unique per machine but not per process: set it when several nodes share a host.
   */
  readonly name: string;
  /**
   * The IP address the UDP socket and TCP listener bind to, as a literal (`net.isIP`). `0.0.0.0` listens on
   * every IPv4 interface, `::` on every interface; `127.0.0.1` keeps the node on loopback. Binding to all
   * interfaces is what a cluster needs, at the cost of exposing the port on every network.
   */
  readonly bindAddr: string;
  /**
   * The port for both UDP (probes, gossip) and TCP (push/pull, fallback pings, reliable sends). 0 lets the
   * OS pick a free port (for tests); peers then need it from the advertised address. Seeds given to join
   * without a port are assumed to use this same port, as memberlist does.
   */
  readonly bindPort: number;
  /**
   * The IP address other members should use to reach us, for NAT or when bound to a wildcard address.
   * '' means none: the transport derives one from the bound address. Must be an IP literal, and not a
   * wildcard (`0.0.0.0`, `::`), which no peer can send to.
   */
  readonly advertiseAddr: string;
  /**
   * The port advertised to other members. Used only when `advertiseAddr` is set (as in memberlist);
   * otherwise the bound port is advertised.
   */
  readonly advertisePort: number;
  /**
   * The memberlist protocol version this node speaks, 1..5. Features are chosen by what each peer
   * advertises (TCP fallback ping from 3, nacks from 4, packet CRC from 5); our own version matters for
   * encryption (1 uses the padded v0 format) and port handling (below 2, ports in messages are replaced by
   * our bind port). Our protobuf wire ignores most of this; the field is kept for the memberlist-compatible
   * wire. Raising it excludes peers whose range does not include it.
   */
  readonly protocolVersion: number;
  /**
   * Deadline for dialing a peer and for each stream exchange (push/pull, TCP fallback ping, reliable send),
   * memberlist's TCPTimeout. Too short and full-state syncs of large clusters fail over slow links; too long
   * and a dead peer holds a push/pull slot (and a join attempt) that long.
   */
  readonly tcpTimeoutMs: number;
  /**
   * How many other members are asked to probe a target indirectly when our direct probe fails. Any one ack
   * clears the target, so more helpers make a false suspicion (caused by one bad path) less likely, at the
   * cost of more packets per failed probe. 0 disables indirect probes: one lost packet leads to suspicion.
   */
  readonly indirectChecks: number;
  /**
   * Multiplier for how many times each broadcast is retransmitted: `retransmitMult × ceil(log10(n + 1))`.
   * Higher values make a broadcast more likely to reach every member despite loss, at the cost of bandwidth
   * and of queue space held longer. Must be >= 1: 0 would never send a broadcast.
   */
  readonly retransmitMult: number;
  /**
   * Multiplier for the minimum suspicion timeout: `suspicionMult × max(1, log10(n)) × probeIntervalMs`.
   * Also sets Lifeguard's k (confirmations needed to reach the minimum) = suspicionMult − 2. Higher values
   * give a suspect longer to refute (fewer false deaths) and detect real failures later.
   */
  readonly suspicionMult: number;
  /**
   * The suspicion timeout starts at this multiple of the minimum and shrinks toward the minimum as other
   * members confirm the suspicion (Lifeguard). It only comes into play when confirmations do not arrive,
   * typically because this node itself is isolated; larger values give a struggling node more time before
   * it declares others dead, and slow detection when it really is alone.
   */
  readonly suspicionMaxTimeoutMult: number;
  /**
   * Interval between full state syncs (push/pull over TCP with one random member), scaled up above 32
   * members. Syncs repair whatever gossip missed and are expensive (the whole member table both ways).
   * Lower converges faster after partitions at the cost of bandwidth and CPU. 0 disables periodic sync
   * (joining still does one).
   */
  readonly pushPullIntervalMs: number;
  /**
   * Interval between probes of the next member in the shuffled round robin. Lower detects failures sooner
   * at the cost of packets and CPU on every member; it also scales the suspicion timeout. Lifeguard's
   * awareness stretches it by up to `awarenessMaxMultiplier` while this node looks unhealthy. 0 disables
   * probing (and with it failure detection).
   */
  readonly probeIntervalMs: number;
  /**
   * How long to wait for a direct ack before asking other members to probe indirectly; set it near the
   * 99th percentile RTT of your network. Too low causes needless indirect probes and, under load, false
   * suspicions; too high delays detection. Must be > 0 and, while probing, <= probeIntervalMs.
   */
  readonly probeTimeoutMs: number;
  /**
   * Turns off the TCP ping that is attempted alongside indirect UDP probes for peers at protocol >= 3. The
   * TCP ping catches networks that drop UDP but pass TCP (a member is then not declared dead, and a warning
   * is logged). Disable it where TCP to peers is blocked, to save a dial per failed probe.
   */
  readonly disableTcpPings: boolean;
  /**
   * Upper bound of Lifeguard's local health multiplier: when this node misses acks or must refute
   * accusations, its probe interval is stretched up to this many times, so a slow node accuses others less.
   * 1 disables the back-off. Higher values make an unhealthy node quieter and its own detections slower.
   */
  readonly awarenessMaxMultiplier: number;
  /**
   * Interval between gossip rounds that send queued broadcasts to `gossipNodes` random members (in
   * addition to piggybacking on probes). Lower spreads updates faster at the cost of packets. 0 disables
   * gossip rounds; broadcasts then travel only piggybacked on probe traffic.
   */
  readonly gossipIntervalMs: number;
  /**
   * How many random members each gossip round sends to. More spreads updates faster at the cost of
   * bandwidth. 0 disables gossip rounds just like gossipIntervalMs = 0.
   */
  readonly gossipNodes: number;
  /**
   * For how long after a member is declared dead we keep gossiping to it (memberlist's
   * GossipToTheDeadTime), so a member falsely declared dead hears it and refutes. Longer helps recovery from
   * long partitions; it costs packets sent to members that are really gone.
   */
  readonly gossipToTheDeadMs: number;
  /**
   * With encryption on: reject inbound packets and streams that are not encrypted. Set false only while
   * rolling encryption out on a running cluster (step 1: accept plaintext); it lets anyone who can reach the
   * port inject membership messages.
   */
  readonly gossipVerifyIncoming: boolean;
  /**
   * With encryption on: encrypt outbound traffic. Set false only during an encryption rollout (send
   * plaintext until every member can decrypt). Without encryption configured it has no effect.
   */
  readonly gossipVerifyOutgoing: boolean;
  /**
   * Compress outgoing messages when that makes them smaller. Saves bandwidth (notably for push/pull) at
   * the cost of CPU on both ends.
   */
  readonly enableCompression: boolean;
  /**
   * The primary AES-GCM key (16, 24 or 32 bytes for AES-128/192/256); null disables encryption. Every
   * member must hold it. Encryption adds per-packet overhead (nonce and tag) that shrinks the gossip budget
   * of `udpBufferSize`, and CPU. The resolved config holds a copy, so later changes to the caller's buffer
   * have no effect.
   */
  readonly secretKey: Uint8Array | null;
  /**
   * A cluster label prefixed to every packet and dialed stream (and used as the GCM additional data when
   * encrypting); '' means none. Nodes with different labels ignore each other, which keeps separate
   * clusters apart when addresses are reused. At most 255 UTF-8 bytes; costs 2 + length bytes per packet.
   */
  readonly label: string;
  /**
   * Accept unlabeled inbound traffic as if it carried `label` (for proxies that strip labels); a packet
   * that still carries a label is then rejected. It does not accept a wrong label.
   */
  readonly skipInboundLabelCheck: boolean;
  /**
   * The wire format. 'protobuf' (the default) is this library's own; 'memberlist' speaks HashiCorp
   * memberlist's msgpack wire (protocol versions 2 to 5, read and written as Go's memberlist 0.2.2 and
   * later do), so the node can join a cluster of Go memberlist nodes (README: Interoperability). What
   * memberlist has no message for does not travel on it: broadcasts reach peers as plain user messages
   * (not re-gossiped, no key), direct messages carry no sender name, and keyManager rotations do not
   * reach peers. Every member of a cluster must use the same wire.
   */
  readonly wire: WireFormat;
  /**
   * The version of the application's own protocol (delegate messages and state), advertised to peers
   * and checked during push/pull: every member's version must lie within every alive member's
   * [min, max]. Leave all three at 0 to skip the check.
   */
  readonly delegateProtocolVersion: number;
  /** The oldest application protocol version this node understands (0..255, <= delegateProtocolVersion). */
  readonly delegateProtocolMin: number;
  /** The newest application protocol version this node understands (0..255, >= delegateProtocolVersion). */
  readonly delegateProtocolMax: number;
  /**
   * Capacity of each priority queue of inbound packets waiting to be handled. A deeper queue rides out
   * bursts at the cost of memory and of latency for what is queued; overflow is dropped and counted. Must be
   * >= 1: memberlist's zero value silently drops every inbound gossip message.
   */
  readonly handoffQueueDepth: number;
  /**
   * The byte budget of each packet we build: gossip and piggybacked broadcasts are packed up to it.
   * 1400 stays under a 1500-byte Ethernet MTU with room for IP/UDP headers; raising it packs more updates
   * per packet but risks IP fragmentation (and loss) on paths with a smaller MTU. Within [64, maxPacketSize].
   */
  readonly udpBufferSize: number;
  /**
   * How long a dead member's name stays bound to its old address. After that, a node with the same name
   * but a different address may take it over (a restarted node with a new IP). 0 means never: the new
   * node is rejected as an address conflict until the old entry is reaped.
   */
  readonly deadNodeReclaimTimeMs: number;
  /**
   * Require a node name whenever we send to an address (joins must use `name/host:port`), so a message
   * cannot reach a different node that now holds a reused address.
   */
  readonly requireNodeNames: boolean;
  /**
   * Networks (CIDR notation, IPv4 and IPv6 listed separately) allowed to join and send alive messages;
   * checked on the packet source and on the advertised address. Empty allows everyone, as in memberlist
   * (whose doc comment claims an empty list blocks all, but its code allows all). Each entry is validated;
   * checking costs a lookup per alive message.
   */
  readonly cidrsAllowed: readonly string[];
  /**
   * Interval at which the broadcast queue depth is checked against its warning and maximum levels. Shorter
   * notices a runaway queue sooner at a small CPU cost. Must be > 0 (memberlist's zero value spins).
   */
  readonly queueCheckIntervalMs: number;
  /**
   * Kept for parity with memberlist, which sends its own DNS queries to the first nameserver in this file.
   * This port resolves seed hostnames with `node:dns`, which reads the system configuration itself; the
   * value is currently unused.
   */
  readonly dnsConfigPath: string;
  /**
   * The largest node metadata (delegate meta) accepted, in bytes; the delegate exceeding it is an error.
   * memberlist fixes 512. Larger meta makes every alive message, and so every push/pull entry, larger; meta
   * that no longer fits in `udpBufferSize` with an alive message can only spread by push/pull.
   */
  readonly metaMaxSize: number;
  /**
   * The largest inbound packet we will decode; bigger ones are dropped before any allocation. 65507, the
   * largest UDP payload over IPv4, accepts anything a peer can send; lower it to cap per-packet work.
   */
  readonly maxPacketSize: number;
  /**
   * The largest stream frame (push/pull state, reliable user message) we will read, checked before
   * allocating; memberlist's maxPushStateBytes. Larger allows bigger clusters and user state per sync, at
   * the cost of the memory a hostile or buggy peer can make us allocate. At least maxPacketSize.
   */
  readonly maxStreamFrameBytes: number;
  /**
   * The most member entries one push/pull may carry (memberlist HEAD's maxPushStateNodes); a larger
   * claim is rejected before decoding. Bounds the work of one merge.
   */
  readonly maxPushPullEntries: number;
  /**
   * How many inbound push/pulls may run at once; more are refused (memberlist's maxPushPullRequests).
   * Protects memory and CPU during join storms; too low slows convergence when many nodes join at once.
   */
  readonly maxConcurrentPushPulls: number;
  /**
   * Messages an actor mailbox handles per microtask drain before yielding to the event loop through
   * setImmediate. Draining with microtasks is fast, but an unbounded drain starves timers and socket I/O
   * (node-stack.md §2d); lower yields more often (fairer, slower), higher batches more.
   */
  readonly mailboxDrainBudget: number;
  /**
   * How many times the supervisor restarts a crashed actor within `actorRestartWindowMs` before giving up
   * and shutting the node down with an error. 0 never restarts.
   */
  readonly actorMaxRestarts: number;
  /**
   * The sliding window over which actor restarts are counted (see actorMaxRestarts). Longer windows make
   * the budget stricter.
   */
  readonly actorRestartWindowMs: number;
  /**
   * How often a dead member (or a seed we joined through) is retried with a push-pull, like Serf's
   * reconnect interval. memberlist forgets dead members after gossipToTheDeadMs, so a partition longer
   * than that never heals by itself (memberlist #222); retrying costs one TCP dial per interval while
   * dead members exist. 0 disables it.
   */
  readonly reconnectIntervalMs: number;
  /**
   * How long after its death a member is still retried (Serf's reconnect timeout); 0 retries forever.
   * A member removed for good stops costing dials after this.
   */
  readonly reconnectTimeoutMs: number;
}

/** What a preset fixes: everything but the name, which is per node. */
export type PresetConfig = Omit<MemberlistConfig, 'name'>;

/** Options accepted by {@link resolveConfig}: any subset of the config plus the profile to start from. */
export type NodeConfigOptions = Partial<MemberlistConfig> & { profile?: Profile };

const LAN: PresetConfig = Object.freeze({
  bindAddr: '0.0.0.0', // memberlist: listen on every IPv4 interface, so peers on any network can reach us
  bindPort: 7946, // memberlist's well-known port (Serf, Consul and Nomad use it too)
  advertiseAddr: '', // none: derive it from the bound address, as memberlist does when unset
  advertisePort: 7946, // memberlist: same as bindPort; only used once advertiseAddr is set
  // memberlist: v2 interoperates with old peers; newer features follow each peer's advertised max
  protocolVersion: PROTOCOL_VERSION_2_COMPATIBLE,
  tcpTimeoutMs: 10_000, // memberlist LAN: 10 s covers a full-state sync of thousands of members on a LAN
  indirectChecks: 3, // memberlist: 3 helpers make a false suspicion from one bad path unlikely for 3 extra packets
  retransmitMult: 4, // memberlist: 4 × ceil(log10(n+1)) sends reach every member despite loss
  suspicionMult: 4, // memberlist LAN: 4 × max(1, log10 n) probe intervals to refute; k = 2 Lifeguard confirmations
  suspicionMaxTimeoutMult: 6, // memberlist: an isolated node waits up to 6× the minimum (96 s at 10k nodes)
  pushPullIntervalMs: 30_000, // memberlist LAN: full syncs are expensive, so rare; gossip does the fast work
  probeIntervalMs: 1_000, // memberlist LAN: one probe a second per node detects failure within seconds at modest load
  probeTimeoutMs: 500, // memberlist LAN: far above a LAN's 99th-percentile RTT; a ping slower than this goes indirect
  disableTcpPings: false, // memberlist: TCP fallback pings are safe with mixed versions and catch UDP-only blackholes
  awarenessMaxMultiplier: 8, // memberlist: an unhealthy node backs its probe interval off to at most 8 s
  gossipIntervalMs: 200, // memberlist LAN: gossip 5× per probe interval so updates spread faster than probes
  gossipNodes: 3, // memberlist LAN: fan-out 3 spreads an update in O(log n) rounds at 3 packets per round
  gossipToTheDeadMs: 30_000, // memberlist LAN: same as push/pull: a falsely-dead node gets a sync's time to refute
  gossipVerifyIncoming: true, // memberlist: with a key, plaintext is refused; relax only during an encryption rollout
  gossipVerifyOutgoing: true, // memberlist: with a key, always encrypt; relax only during an encryption rollout
  enableCompression: true, // memberlist: used only when it shrinks a message; bandwidth is dearer than CPU
  secretKey: null, // memberlist: no encryption unless a key is configured
  label: '', // memberlist: unlabeled, so the wire is identical to label-unaware peers
  skipInboundLabelCheck: false, // memberlist: a node only accepts traffic carrying its own label
  wire: 'protobuf', // ours: it also carries probe digests, broadcast origins and key rotation, which memberlist's cannot
  delegateProtocolVersion: 0, // memberlist: 0/0/0 means the application protocol is not version-checked
  delegateProtocolMin: 0, // memberlist: see delegateProtocolVersion
  delegateProtocolMax: 0, // memberlist: see delegateProtocolVersion
  handoffQueueDepth: 1024, // memberlist: absorbs a burst of 1024 inbound messages per priority before dropping
  udpBufferSize: 1400, // memberlist: stays under a 1500-byte Ethernet MTU after IP/UDP headers, so no fragmentation
  deadNodeReclaimTimeMs: 0, // memberlist: a dead member's name is never taken over by another address
  requireNodeNames: false, // memberlist: joins by bare host:port stay possible
  cidrsAllowed: Object.freeze([]), // memberlist: nil allows every address
  queueCheckIntervalMs: 30_000, // memberlist HEAD: check queue depth every 30 s; cheap, and overflow builds slowly
  dnsConfigPath: '/etc/resolv.conf', // memberlist: kept for parity; we resolve through node:dns
  metaMaxSize: META_MAX_SIZE, // memberlist MetaMaxSize: 512 bytes keeps an alive message well inside one packet
  maxPacketSize: MAX_UDP_PAYLOAD, // ours: the largest UDP payload over IPv4, so no legitimate packet is refused
  maxStreamFrameBytes: 20 * 1024 * 1024, // memberlist maxPushStateBytes: tens of thousands of members, meta included
  maxPushPullEntries: 1_048_576, // memberlist HEAD maxPushStateNodes: 2^20 entries, far beyond any real cluster
  maxConcurrentPushPulls: 128, // memberlist maxPushPullRequests: bounds memory during join storms
  mailboxDrainBudget: 1024, // ours: ~30 µs of messages, then yield so I/O is not starved (node-stack.md §2d)
  actorMaxRestarts: 5, // ours: rides out transient crashes; a deterministic crash loop gives up within seconds
  actorRestartWindowMs: 60_000, // ours: 5 restarts per minute, so isolated crashes hours apart never exhaust the budget
  reconnectIntervalMs: 30_000, // Serf's ReconnectInterval: a healed partition re-forms within about this long
  reconnectTimeoutMs: 86_400_000, // Serf's ReconnectTimeout (24 h): then a dead member is assumed gone for good
});

const WAN: PresetConfig = Object.freeze({
  ...LAN,
  tcpTimeoutMs: 30_000, // memberlist WAN: full syncs cross slow, long-RTT links
  suspicionMult: 6, // memberlist WAN: loss and jitter are higher, so give suspects more time to refute
  pushPullIntervalMs: 60_000, // memberlist WAN: WAN bandwidth is dearer; sync half as often
  probeIntervalMs: 5_000, // memberlist WAN: probe less often over costly links and tolerate slower detection
  probeTimeoutMs: 3_000, // memberlist WAN: covers intercontinental RTTs and their tail
  gossipIntervalMs: 500, // memberlist WAN: gossip less often...
  gossipNodes: 4, // memberlist WAN: ...but to one more node, to keep spreading speed
  gossipToTheDeadMs: 60_000, // memberlist WAN: same as push/pull
  reconnectIntervalMs: 60_000, // Serf-like: WAN dials are dearer, retry half as often
});

const LOCAL: PresetConfig = Object.freeze({
  ...LAN,
  tcpTimeoutMs: 1_000, // memberlist local: loopback streams complete in well under a second
  indirectChecks: 1, // memberlist local: loopback rarely loses packets; one helper suffices
  retransmitMult: 2, // memberlist local: little loss, so fewer retransmits converge
  suspicionMult: 3, // memberlist local: refutations arrive fast on loopback
  pushPullIntervalMs: 15_000, // memberlist local: syncs are cheap on loopback
  probeIntervalMs: 1_000, // memberlist local: same as LAN
  probeTimeoutMs: 200, // memberlist local: loopback RTT is microseconds; 200 ms only trips on a stalled process
  gossipIntervalMs: 100, // memberlist local: gossip is cheap on loopback, so spread faster
  gossipToTheDeadMs: 15_000, // memberlist local: same as push/pull
});

/** The three presets, memberlist's DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig. Frozen. */
export const PRESETS: Readonly<Record<Profile, PresetConfig>> = Object.freeze({
  lan: LAN,
  wan: WAN,
  local: LOCAL,
});

/** Every key of {@link MemberlistConfig}, in declaration order. */
export const CONFIG_KEYS: readonly (keyof MemberlistConfig)[] = Object.freeze([
  'name',
  ...(Object.keys(LAN) as (keyof PresetConfig)[]),
]);

const PROFILES: readonly Profile[] = ['lan', 'wan', 'local'];
const KNOWN_OPTION_KEYS: readonly string[] = [...CONFIG_KEYS, 'profile'];

/**
 * Builds the configuration of one node: the preset named by `options.profile` (default 'lan'), then every
 * option that is not `undefined`, then validation. The result is frozen.
 *
 * @param options config overrides plus `profile`.
 * @param ignoredKeys keys that belong to the caller's other options (transport, logger, clock...): they are
 *   neither copied nor reported as unknown.
 * @throws ConfigError (code 'ERR_INVALID_CONFIG') naming the first invalid field, or an unknown key with
 *   the closest known one.
 */
export function resolveConfig(
  options: NodeConfigOptions,
  ignoredKeys: readonly string[] = [],
): MemberlistConfig {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError('options', `must be an object of config fields; got ${describe(options)}`);
  }
  const given: Record<string, unknown> = {};
  const ignored = new Set(ignoredKeys);
  const known = new Set(KNOWN_OPTION_KEYS);
  for (const key of Object.keys(options)) {
    if (ignored.has(key)) continue;
    if (!known.has(key)) throw unknownKey(key);
    const value: unknown = (options as Record<string, unknown>)[key];
    // `undefined` means "not set", so callers can forward optional values without filtering them.
    if (value !== undefined) given[key] = value;
  }

  const profile = given['profile'] ?? 'lan';
  if (!isProfile(profile)) {
    throw new ConfigError('profile', `must be one of 'lan', 'wan', 'local'; got ${describe(profile)}`);
  }
  const raw: Record<string, unknown> = { ...PRESETS[profile], name: hostname(), ...given };
  return validate(raw);
}

/** A parsed CIDR block: `address` is the network address as written, `prefix` the mask length. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/**
 * Parses `addr/prefix` as Go's net.ParseCIDR accepts it (after trimming whitespace, like memberlist's
 * ParseCIDRs): an IPv4 or IPv6 literal without zone, and a decimal prefix of 0..32 or 0..128. Returns null
 * when the text is not a CIDR.
 */
export function parseCidr(text: string): Cidr | null {
  const trimmed = text.trim();
  const slash = trimmed.lastIndexOf('/');
  if (slash < 0) return null;
  const address = trimmed.slice(0, slash);
  const prefixText = trimmed.slice(slash + 1);
  const family = isIP(address);
  // A zone (fe80::1%eth0) names an interface, not a network; Go rejects it in a CIDR too.
  if ((family !== 4 && family !== 6) || address.includes('%')) return null;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  if (prefix > (family === 4 ? 32 : 128)) return null;
  return { address, prefix, family };
}

// ---------------------------------------------------------------------------------------------------------
// Validation

function validate(raw: Readonly<Record<string, unknown>>): MemberlistConfig {
  const name = utf8String(raw, 'name', 1, NAME_MAX_SIZE, 'set "name" to a unique name for this node');
  const bindAddr = ipLiteral(raw, 'bindAddr');
  const bindPort = integer(raw, 'bindPort', 0, 65_535, '0 lets the OS pick a free port');
  const advertiseAddr = advertiseAddress(raw);
  const advertisePort = integer(raw, 'advertisePort', 0, 65_535);
  const protocolVersion = integer(
    raw,
    'protocolVersion',
    PROTOCOL_VERSION_MIN,
    PROTOCOL_VERSION_MAX,
    `the versions memberlist defines; ${PROTOCOL_VERSION_2_COMPATIBLE} is the compatible default`,
  );
  // A zero deadline would fail every dial and stream read at once.
  const tcpTimeoutMs = duration(raw, 'tcpTimeoutMs', 1, 'a zero deadline fails every stream');
  const indirectChecks = integer(raw, 'indirectChecks', 0, Number.MAX_SAFE_INTEGER, '0 disables indirect probes');
  const retransmitMult = integer(raw, 'retransmitMult', 1, Number.MAX_SAFE_INTEGER, '0 would never send a broadcast');
  const suspicionMult = integer(
    raw,
    'suspicionMult',
    1,
    Number.MAX_SAFE_INTEGER,
    '0 would declare a suspect dead at once',
  );
  const suspicionMaxTimeoutMult = integer(
    raw,
    'suspicionMaxTimeoutMult',
    1,
    Number.MAX_SAFE_INTEGER,
    'the maximum suspicion timeout cannot be below the minimum',
  );
  const pushPullIntervalMs = duration(raw, 'pushPullIntervalMs', 0, '0 disables periodic push/pull');
  const probeIntervalMs = duration(raw, 'probeIntervalMs', 0, '0 disables probing');
  const probeTimeoutMs = duration(raw, 'probeTimeoutMs', 1, 'a zero timeout fails every direct probe');
  // memberlist does not check this. But a probe's whole life (the ack handler, the wait for indirect and
  // TCP results) is the probe interval: if the direct wait is longer, the interval ends first and the
  // probe never reaches its indirect stage, so one lost packet goes straight to suspicion.
  if (probeIntervalMs > 0 && probeTimeoutMs > probeIntervalMs) {
    fail(
      'probeTimeoutMs',
      `<= probeIntervalMs (${probeIntervalMs}) so a probe can reach its indirect stage`,
      probeTimeoutMs,
    );
  }
  const disableTcpPings = bool(raw, 'disableTcpPings');
  const awarenessMaxMultiplier = integer(
    raw,
    'awarenessMaxMultiplier',
    1,
    Number.MAX_SAFE_INTEGER,
    '1 disables the health back-off',
  );
  const gossipIntervalMs = duration(raw, 'gossipIntervalMs', 0, '0 disables gossip rounds');
  const gossipNodes = integer(raw, 'gossipNodes', 0, Number.MAX_SAFE_INTEGER, '0 disables gossip rounds');
  const gossipToTheDeadMs = duration(raw, 'gossipToTheDeadMs', 0);
  const gossipVerifyIncoming = bool(raw, 'gossipVerifyIncoming');
  const gossipVerifyOutgoing = bool(raw, 'gossipVerifyOutgoing');
  const enableCompression = bool(raw, 'enableCompression');
  const secretKey = key(raw);
  const label = utf8String(raw, 'label', 0, LABEL_MAX_SIZE, "'' means no label; its length travels in one byte");
  const skipInboundLabelCheck = bool(raw, 'skipInboundLabelCheck');
  const wire = raw['wire'];
  if (wire !== 'protobuf' && wire !== 'memberlist') {
    fail('wire', "'protobuf' or 'memberlist': 'memberlist' to join Go memberlist nodes", wire);
  }
  const delegateProtocolVersion = integer(raw, 'delegateProtocolVersion', 0, 255);
  const delegateProtocolMin = integer(raw, 'delegateProtocolMin', 0, 255);
  const delegateProtocolMax = integer(raw, 'delegateProtocolMax', 0, 255);
  // memberlist does not check these either, but every push/pull requires each member's version to lie in
  // every alive member's [min, max], including our own: a version outside our own range makes every sync
  // fail, e.g. delegateProtocolVersion 2 with min and max left at 0.
  if (delegateProtocolMin > delegateProtocolMax) {
    fail('delegateProtocolMin', `<= delegateProtocolMax (${delegateProtocolMax})`, delegateProtocolMin);
  }
  if (delegateProtocolVersion < delegateProtocolMin || delegateProtocolVersion > delegateProtocolMax) {
    fail(
      'delegateProtocolVersion',
      `within [delegateProtocolMin, delegateProtocolMax] = [${delegateProtocolMin}, ${delegateProtocolMax}], ` +
        'or every push/pull fails its version check; set the range too',
      delegateProtocolVersion,
    );
  }
  const handoffQueueDepth = integer(
    raw,
    'handoffQueueDepth',
    1,
    Number.MAX_SAFE_INTEGER,
    "a depth of 0 drops every inbound gossip message (memberlist's zero-value footgun)",
  );
  const maxPacketSize = integer(
    raw,
    'maxPacketSize',
    64,
    MAX_UDP_PAYLOAD,
    'the largest UDP payload over IPv4 is 65507 bytes',
  );
  const udpBufferSize = integer(
    raw,
    'udpBufferSize',
    64,
    maxPacketSize,
    `at most maxPacketSize (${maxPacketSize}), or our own packets would be refused; 1400 avoids fragmentation`,
  );
  const deadNodeReclaimTimeMs = duration(raw, 'deadNodeReclaimTimeMs', 0, '0 means a dead name is never reclaimed');
  const requireNodeNames = bool(raw, 'requireNodeNames');
  const cidrsAllowed = cidrList(raw);
  const queueCheckIntervalMs = duration(
    raw,
    'queueCheckIntervalMs',
    1,
    "memberlist's zero value makes the check spin",
  );
  const dnsConfigPath = str(raw, 'dnsConfigPath');
  const metaMaxSize = integer(raw, 'metaMaxSize', 0, 65_535, `memberlist uses ${META_MAX_SIZE}`);
  const maxStreamFrameBytes = integer(
    raw,
    'maxStreamFrameBytes',
    maxPacketSize,
    MAX_STREAM_FRAME_BYTES_LIMIT,
    `at least maxPacketSize (${maxPacketSize}) so whatever fits in a packet can also go by stream`,
  );
  const maxPushPullEntries = integer(raw, 'maxPushPullEntries', 1, Number.MAX_SAFE_INTEGER);
  const maxConcurrentPushPulls = integer(
    raw,
    'maxConcurrentPushPulls',
    1,
    Number.MAX_SAFE_INTEGER,
    '0 would refuse every push/pull, including joins',
  );
  const mailboxDrainBudget = integer(
    raw,
    'mailboxDrainBudget',
    1,
    Number.MAX_SAFE_INTEGER,
    'the messages handled per drain before yielding',
  );
  const actorMaxRestarts = integer(raw, 'actorMaxRestarts', 0, Number.MAX_SAFE_INTEGER, '0 never restarts');
  const actorRestartWindowMs = duration(raw, 'actorRestartWindowMs', 1);
  const reconnectIntervalMs = duration(raw, 'reconnectIntervalMs', 0, '0 disables retrying dead members');
  const reconnectTimeoutMs = duration(raw, 'reconnectTimeoutMs', 0, '0 retries forever');

  return Object.freeze({
    name,
    bindAddr,
    bindPort,
    advertiseAddr,
    advertisePort,
    protocolVersion,
    tcpTimeoutMs,
    indirectChecks,
    retransmitMult,
    suspicionMult,
    suspicionMaxTimeoutMult,
    pushPullIntervalMs,
    probeIntervalMs,
    probeTimeoutMs,
    disableTcpPings,
    awarenessMaxMultiplier,
    gossipIntervalMs,
    gossipNodes,
    gossipToTheDeadMs,
    gossipVerifyIncoming,
    gossipVerifyOutgoing,
    enableCompression,
    secretKey,
    label,
    skipInboundLabelCheck,
    wire,
    delegateProtocolVersion,
    delegateProtocolMin,
    delegateProtocolMax,
    handoffQueueDepth,
    udpBufferSize,
    deadNodeReclaimTimeMs,
    requireNodeNames,
    cidrsAllowed,
    queueCheckIntervalMs,
    dnsConfigPath,
    metaMaxSize,
    maxPacketSize,
    maxStreamFrameBytes,
    maxPushPullEntries,
    maxConcurrentPushPulls,
    mailboxDrainBudget,
    actorMaxRestarts,
    actorRestartWindowMs,
    reconnectIntervalMs,
    reconnectTimeoutMs,
  });
}

/** Throws `invalid config "<field>": must be <rule>; got <value>`. */
function fail(field: string, rule: string, got: unknown): never {
  throw new ConfigError(field, `must be ${rule}; got ${describe(got)}`);
}

/** `rule: hint`, so the message reads "must be <rule>: <why or what the edge values mean>; got <value>". */
function withHint(rule: string, hint: string | undefined): string {
  return hint === undefined ? rule : `${rule}: ${hint}`;
}

function integer(
  raw: Readonly<Record<string, unknown>>,
  field: string,
  min: number,
  max: number,
  hint?: string,
): number {
  const value = raw[field];
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
  const rule = withHint(`an integer ${range}`, hint);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, rule, value);
  }
  return value;
}

/** A duration in whole milliseconds, from `min` up to what a Node timer can hold. */
function duration(raw: Readonly<Record<string, unknown>>, field: string, min: number, hint?: string): number {
  const value = raw[field];
  const rule = withHint(`a whole number of milliseconds in [${min}, ${MAX_DURATION_MS}]`, hint);
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_DURATION_MS) {
    fail(field, rule, value);
  }
  return value;
}

function bool(raw: Readonly<Record<string, unknown>>, field: string): boolean {
  const value = raw[field];
  if (typeof value !== 'boolean') fail(field, 'true or false', value);
  return value;
}

function str(raw: Readonly<Record<string, unknown>>, field: string): string {
  const value = raw[field];
  if (typeof value !== 'string') fail(field, 'a string', value);
  return value;
}

function utf8String(
  raw: Readonly<Record<string, unknown>>,
  field: string,
  minBytes: number,
  maxBytes: number,
  hint: string,
): string {
  const value = raw[field];
  const rule = withHint(
    `${minBytes > 0 ? 'a non-empty string' : 'a string'} of at most ${maxBytes} UTF-8 bytes`,
    hint,
  );
  if (typeof value !== 'string') fail(field, rule, value);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < minBytes || bytes > maxBytes) {
    // Quote at most the start of an oversized value; the byte count is what the user must fix.
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    throw new ConfigError(field, `must be ${rule}; got ${JSON.stringify(shown)} (${bytes} bytes)`);
  }
  return value;
}

function ipLiteral(raw: Readonly<Record<string, unknown>>, field: string): string {
  const value = raw[field];
  if (typeof value !== 'string' || isIP(value) === 0) {
    fail(
      field,
      "an IP address literal such as '0.0.0.0' (all IPv4 interfaces), '::' (all interfaces) or " +
        "'127.0.0.1' (loopback only); hostnames are not resolved here",
      value,
    );
  }
  return value;
}

function advertiseAddress(raw: Readonly<Record<string, unknown>>): string {
  const value = raw['advertiseAddr'];
  if (value === '') return value;
  const rule =
    "'' (advertise the bound address) or the IP address literal peers should use to reach this node";
  if (typeof value !== 'string' || isIP(value) === 0) fail('advertiseAddr', rule, value);
  // A wildcard is a valid bind address but not a destination: peers would send to themselves.
  if (value === '0.0.0.0' || /^[0:]+$/.test(value)) {
    fail('advertiseAddr', `${rule}, not a wildcard address, which no peer can send to`, value);
  }
  return value;
}

function key(raw: Readonly<Record<string, unknown>>): Uint8Array | null {
  const value = raw['secretKey'];
  if (value === null) return null;
  const rule = 'null or a Uint8Array of 16, 24 or 32 bytes (AES-128/192/256), e.g. Buffer.from(key, "base64")';
  if (!(value instanceof Uint8Array)) fail('secretKey', rule, value);
  if (value.length !== 16 && value.length !== 24 && value.length !== 32) fail('secretKey', rule, value);
  // Copy, so that the caller reusing or zeroing its buffer cannot change the key under a running node.
  return new Uint8Array(value);
}

function cidrList(raw: Readonly<Record<string, unknown>>): readonly string[] {
  const value = raw['cidrsAllowed'];
  const rule = "an array of CIDR strings such as '10.0.0.0/8' or 'fd00::/8' ([] allows every address)";
  if (!Array.isArray(value)) fail('cidrsAllowed', rule, value);
  const out: string[] = [];
  for (const [i, entry] of (value as unknown[]).entries()) {
    if (typeof entry !== 'string' || parseCidr(entry) === null) {
      fail('cidrsAllowed', `${rule}; entry ${i} is not a valid CIDR`, entry);
    }
    out.push(entry.trim());
  }
  return Object.freeze(out);
}

function isProfile(value: unknown): value is Profile {
  return typeof value === 'string' && (PROFILES as readonly string[]).includes(value);
}

/** A short description of a value for error messages: the value itself when short, its type otherwise. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'bigint') return `${value}n (a bigint; use a number)`;
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}

// ---------------------------------------------------------------------------------------------------------
// Unknown keys

function unknownKey(key: string): ConfigError {
  const suggestion = closestKey(key);
  const hint = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
  return new ConfigError(key, `is not a config option${hint}`);
}

/**
 * The known option closest to `key`, or undefined when nothing is plausibly meant. Compared
 * case-insensitively and also with an `Ms` suffix added, so memberlist's Go names (`ProbeInterval`,
 * `TCPTimeout`) find their camelCase, millisecond counterparts.
 */
function closestKey(key: string): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of KNOWN_OPTION_KEYS) {
    const target = candidate.toLowerCase();
    const d = Math.min(editDistance(lower, target), editDistance(`${lower}ms`, target));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Beyond this the "closest" key is a guess that would mislead more than help.
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Levenshtein distance with a single rolling row. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, substitution));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}
