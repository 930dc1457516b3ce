// interop-helper: one hashicorp/memberlist node (Debian's 0.2.2 source) in this process, driven by
// the TypeScript interop suite over stdin/stdout, one JSON object per line each way.
//
//	stdin  {"cmd":"join","seeds":["127.0.0.1:7946"]} | {"cmd":"states"} | {"cmd":"send","to":"name","payload":"..","reliable":true}
//	       {"cmd":"meta","meta":".."} | {"cmd":"leave"} | {"cmd":"quit"}
//	stdout {"ev":"ready","port":N} | {"ev":"join"|"leave"|"update","node":..,"meta":..} | {"ev":"msg","payload":..}
//	       {"ev":"merge","join":b,"state":..} | {"ev":"states","states":{name:0..3}} | {"ev":"joined","n":N,"err":..}
//	       {"ev":"left","err":..} | {"ev":"sent","err":..} | {"ev":"log","line":..}
//
// Payloads are strings (the suite only sends text). Killing the process is how a Go node "crashes".
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

var (
	flagName      = flag.String("name", "go-0", "node name")
	flagBind      = flag.String("bind", "127.0.0.1", "bind and advertise address")
	flagPort      = flag.Int("port", 0, "bind port (0: any)")
	flagKey       = flag.String("key", "", "hex AES key (16, 24 or 32 bytes); empty: no encryption")
	flagMeta      = flag.String("meta", "", "node metadata")
	flagState     = flag.String("state", "", "push-pull user state (Delegate.LocalState)")
	flagProbe     = flag.Duration("probe-interval", 200*time.Millisecond, "ProbeInterval")
	flagProbeTO   = flag.Duration("probe-timeout", 100*time.Millisecond, "ProbeTimeout")
	flagGossip    = flag.Duration("gossip-interval", 50*time.Millisecond, "GossipInterval")
	flagPushPull  = flag.Duration("push-pull-interval", time.Second, "PushPullInterval")
	flagSuspicion = flag.Int("suspicion-mult", 3, "SuspicionMult")
	flagCompress  = flag.Bool("compress", true, "EnableCompression")
	flagLogs      = flag.Bool("logs", false, "forward memberlist's log lines as {\"ev\":\"log\"}")
)

var outMu sync.Mutex

func emit(m map[string]interface{}) {
	m["t"] = time.Now().UnixNano()
	b, _ := json.Marshal(m)
	outMu.Lock()
	os.Stdout.Write(append(b, '\n'))
	outMu.Unlock()
}

type delegate struct {
	mu   sync.Mutex
	meta []byte
}

func (d *delegate) NodeMeta(limit int) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.meta
}
func (d *delegate) NotifyMsg(b []byte) {
	emit(map[string]interface{}{"ev": "msg", "payload": string(b)})
}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte             { return []byte(*flagState) }
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	emit(map[string]interface{}{"ev": "merge", "join": join, "state": string(buf)})
}

type events struct{}

func nodeEvent(ev string, n *memberlist.Node) {
	emit(map[string]interface{}{"ev": ev, "node": n.Name, "addr": n.Addr.String(), "port": n.Port, "meta": string(n.Meta)})
}
func (events) NotifyJoin(n *memberlist.Node)   { nodeEvent("join", n) }
func (events) NotifyLeave(n *memberlist.Node)  { nodeEvent("leave", n) }
func (events) NotifyUpdate(n *memberlist.Node) { nodeEvent("update", n) }

type logSink struct{}

func (logSink) Write(p []byte) (int, error) {
	if *flagLogs {
		emit(map[string]interface{}{"ev": "log", "line": strings.TrimSpace(string(p))})
	}
	return len(p), nil
}

type command struct {
	Cmd      string   `json:"cmd"`
	Seeds    []string `json:"seeds"`
	To       string   `json:"to"`
	Payload  string   `json:"payload"`
	Reliable bool     `json:"reliable"`
	Meta     string   `json:"meta"`
}

func main() {
	flag.Parse()
	c := memberlist.DefaultLocalConfig()
	c.Name = *flagName
	c.BindAddr = *flagBind
	c.AdvertiseAddr = *flagBind
	c.BindPort = *flagPort
	c.AdvertisePort = *flagPort
	c.ProbeInterval = *flagProbe
	c.ProbeTimeout = *flagProbeTO
	c.GossipInterval = *flagGossip
	c.PushPullInterval = *flagPushPull
	c.SuspicionMult = *flagSuspicion
	c.EnableCompression = *flagCompress
	c.LogOutput = logSink{}
	d := &delegate{meta: []byte(*flagMeta)}
	c.Delegate = d
	c.Events = events{}
	if *flagKey != "" {
		key, err := hex.DecodeString(*flagKey)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad -key:", err)
			os.Exit(2)
		}
		c.SecretKey = key
	}
	m, err := memberlist.Create(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "create:", err)
		os.Exit(1)
	}
	emit(map[string]interface{}{"ev": "ready", "port": m.LocalNode().Port, "name": c.Name})
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var cmd command
		if json.Unmarshal(sc.Bytes(), &cmd) != nil {
			continue
		}
		switch cmd.Cmd {
		case "join":
			go func(seeds []string) {
				n, err := m.Join(seeds)
				r := map[string]interface{}{"ev": "joined", "n": n}
				if err != nil {
					r["err"] = err.Error()
				}
				emit(r)
			}(cmd.Seeds)
		case "states":
			emit(map[string]interface{}{"ev": "states", "states": m.InteropNodeStates()})
		case "send":
			var target *memberlist.Node
			for _, n := range m.Members() {
				if n.Name == cmd.To {
					target = n
				}
			}
			r := map[string]interface{}{"ev": "sent"}
			if target == nil {
				r["err"] = "unknown member " + cmd.To
			} else if cmd.Reliable {
				if err := m.SendReliable(target, []byte(cmd.Payload)); err != nil {
					r["err"] = err.Error()
				}
			} else if err := m.SendBestEffort(target, []byte(cmd.Payload)); err != nil {
				r["err"] = err.Error()
			}
			emit(r)
		case "meta":
			d.mu.Lock()
			d.meta = []byte(cmd.Meta)
			d.mu.Unlock()
			go func() {
				r := map[string]interface{}{"ev": "meta-updated"}
				if err := m.UpdateNode(5 * time.Second); err != nil {
					r["err"] = err.Error()
				}
				emit(r)
			}()
		case "leave":
			r := map[string]interface{}{"ev": "left"}
			if err := m.Leave(5 * time.Second); err != nil {
				r["err"] = err.Error()
			}
			emit(r)
		case "quit":
			m.Shutdown()
			os.Exit(0)
		}
	}
	m.Shutdown()
}
