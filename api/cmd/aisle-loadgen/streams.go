package main

// Streams mode (-streams N): N devices hold the server's push stream at
// once, the server publishes a checkpoint, and every device pulls and
// applies it.
//
// The server runs in this process, as in the other mode; the devices run in
// a child process (this same executable, started with devicesEnv set), so
// that the server's memory per held stream is measured on a process that
// holds only the server, each process stays under its own file limit (a
// stream is one descriptor on each side), and the CPU each side spends is
// reported apart. The two talk over the child's stdin and stdout, one line
// per step:
//
//	child:  {"phase":"synced",...}  every device applied the first checkpoint
//	parent: open                    (the server's memory is measured before)
//	child:  {"phase":"ready",...}   every stream got its hello
//	parent: published T SEQ WAIT    (after the server's memory is measured; T is
//	                                when the publish began, in Unix nanoseconds)
//	child:  {"phase":"result",...}  when every device applied SEQ, or after WAIT
//	parent: done
//
// Each device is a real HTTP/1.1 connection on loopback from one of several
// source addresses (127.0.0.2, 127.0.0.3, ...: streamsPerAddr each, so
// ephemeral ports never run short), read by one goroutine with small
// buffers and the sync client's own event parser. On a checkpoint event the
// device is queued for a pull; -clients workers pull (the real sync client:
// checkpoint, then pages, into an in-memory replica) over one shared
// http.Transport.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"time"

	"aisle/api/server"
	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

const (
	// devicesEnv, set to the devices' configuration (JSON), makes this
	// executable the devices' process.
	devicesEnv = "AISLE_LOADGEN_DEVICES"
	// Catalog of the streams mode: small, since every device keeps its own
	// replica in the devices' process.
	streamsProducts = 20
	streamsChanged  = 5
	// streamsPerAddr streams share one loopback source address.
	streamsPerAddr = 2000
	// streamsDialers streams are being opened at once.
	streamsDialers = 128
	// streamsGrace is how long the devices keep listening once all have
	// synced, so that a doubled event would be counted.
	streamsGrace = 500 * time.Millisecond
)

func init() {
	if cfg := os.Getenv(devicesEnv); cfg != "" {
		if err := runDevices(cfg, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "aisle-loadgen devices:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// streamsOptions configures a streams run.
type streamsOptions struct {
	DB         string        // sqlite or postgres
	Streams    int           // devices, each holding a push stream
	Pullers    int           // devices pulling at once after the publish
	Timeout    time.Duration // the whole run
	CPUProfile string        // when set, the window from the publish to the result is profiled: the server to CPUProfile+".publish", the devices to CPUProfile+".devices"
	Stderr     io.Writer     // the devices' process's stderr (nil: os.Stderr)
	// afterPublish, when set, runs right after the publish's broadcast
	// (tests: a fault the checks must catch).
	afterPublish func(*server.Hub, wire.Checkpoint)
}

// devicesConfig is what the devices' process is told (devicesEnv).
type devicesConfig struct {
	Base       string    `json:"base"`
	Store      string    `json:"store"`
	Streams    int       `json:"streams"`
	Pullers    int       `json:"pullers"`
	Deadline   time.Time `json:"deadline"`
	CPUProfile string    `json:"cpuprofile,omitempty"`
}

// memUse is a process's memory after a full collection.
type memUse struct {
	Heap       uint64 `json:"heap_bytes"`  // live heap
	Stacks     uint64 `json:"stack_bytes"` // goroutine stacks
	RSS        uint64 `json:"rss_bytes"`   // resident set (VmRSS)
	Goroutines int    `json:"goroutines"`
}

func measureMem() memUse {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memUse{Heap: ms.HeapAlloc, Stacks: ms.StackInuse, RSS: rss(), Goroutines: runtime.NumGoroutine()}
}

// rss reads VmRSS from /proc/self/status (0 where there is none).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// perStream is the growth from before to after, per stream.
type perStream struct {
	Heap       float64 `json:"heap_bytes"`
	Stacks     float64 `json:"stack_bytes"`
	RSS        float64 `json:"rss_bytes"`
	Goroutines float64 `json:"goroutines"`
}

func growth(before, after memUse, n int) perStream {
	if n == 0 {
		return perStream{}
	}
	d := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) }
	return perStream{Heap: d(before.Heap, after.Heap), Stacks: d(before.Stacks, after.Stacks), RSS: d(before.RSS, after.RSS),
		Goroutines: float64(after.Goroutines-before.Goroutines) / float64(n)}
}

// cpuTime is the CPU (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// raiseNoFile raises this process's soft limit on open files to need, and
// the hard limit too where the process may (CAP_SYS_RESOURCE).
func raiseNoFile(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= need {
		return nil
	}
	want := syscall.Rlimit{Cur: need, Max: max(lim.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		if lim.Max < need {
			return fmt.Errorf("%d streams need %d open files per process, but the hard limit is %d and cannot be raised (%v): raise it (ulimit -Hn, LimitNOFILE=) or ask for fewer streams", need-streamsSpare, need, lim.Max, err)
		}
		return fmt.Errorf("raise the open file limit to %d: %w", need, err)
	}
	return nil
}

// streamsSpare is the open files a process needs besides its streams.
const streamsSpare = 512

// devicesReport is the devices' process's last word.
type devicesReport struct {
	Phase   string `json:"phase"`
	Streams int    `json:"streams"`
	Pullers int    `json:"pullers"`

	// synced
	InitialSyncS      float64 `json:"initial_sync_s,omitempty"`
	InitialSyncErrors int     `json:"initial_sync_errors,omitempty"`

	// ready
	Opened     int           `json:"opened,omitempty"`
	OpenErrors int           `json:"open_errors,omitempty"`
	FirstError string        `json:"first_error,omitempty"`
	OpenS      float64       `json:"open_s,omitempty"`
	HelloSeqs  map[int64]int `json:"hello_seqs,omitempty"`
	ClientMem  perStream     `json:"client_per_stream"`

	// result
	Notified    int            `json:"notified,omitempty"`
	Synced      int            `json:"synced,omitempty"`
	SyncErrors  int            `json:"sync_errors,omitempty"`
	EventCounts map[int]int    `json:"event_counts,omitempty"` // checkpoint events per device after the hello -> devices
	EventSeqs   map[int64]int  `json:"event_seqs,omitempty"`   // seq of the checkpoint events -> events
	Applied     map[int64]int  `json:"applied,omitempty"`      // applied checkpoint seq -> devices
	Digests     map[string]int `json:"digests,omitempty"`      // replica contents digest -> devices
	Broken      int            `json:"broken,omitempty"`       // streams that ended before the end of the run
	CPUS        float64        `json:"cpu_s,omitempty"`        // the devices' CPU from the publish to the result
	NotifyQ     [3]float64     `json:"notify_ms"`
	SyncQ       [3]float64     `json:"sync_ms"`
}

// streamsResult is what a streams run measured.
type streamsResult struct {
	DB              string          `json:"db"`
	Streams         int             `json:"streams"`
	Pullers         int             `json:"pullers"`
	Products        int             `json:"products"`
	DeltaChanges    int             `json:"delta_changes"` // changes in the published checkpoint
	SourceAddrs     int             `json:"source_addrs"`  // loopback addresses the streams come from
	InitialSyncS    float64         `json:"initial_sync_s"`
	OpenS           float64         `json:"open_s"`
	Opened          int             `json:"opened"`
	HubStreams      int             `json:"hub_streams"`
	PublishMs       float64         `json:"publish_ms"`   // the publish: commit and broadcast
	BroadcastMs     float64         `json:"broadcast_ms"` // the broadcast alone
	NotifiedCount   int             `json:"notified"`
	NotifyP50Ms     float64         `json:"notify_p50_ms"`
	NotifyP99Ms     float64         `json:"notify_p99_ms"`
	NotifyMaxMs     float64         `json:"notify_max_ms"` // publish to the last stream's event
	SyncedCount     int             `json:"synced"`
	SyncP50Ms       float64         `json:"sync_p50_ms"`
	AllSyncedMs     float64         `json:"all_synced_ms"` // publish to the last device's applied checkpoint
	ServerPerStream perStream       `json:"server_per_stream"`
	ClientPerStream perStream       `json:"client_per_stream"`
	ServerBefore    memUse          `json:"server_before"`
	ServerAfter     memUse          `json:"server_after"`
	ServerCPUS      float64         `json:"server_cpu_s"`  // publish to result
	DevicesCPUS     float64         `json:"devices_cpu_s"` // publish to result
	Target          wire.Checkpoint `json:"target"`
	Errors          int             `json:"errors"`
	Problems        []string        `json:"problems,omitempty"`
}

// OK says every device heard the publish exactly once and applied it.
func (r streamsResult) OK() bool { return r.Errors == 0 && len(r.Problems) == 0 }

// runStreams runs the streams mode and prints its JSON and markdown row.
func runStreams(dbKind string, n, pullers int, timeout time.Duration, cpuProfile string) error {
	res, err := streamsRun(streamsOptions{DB: dbKind, Streams: n, Pullers: pullers, Timeout: timeout, CPUProfile: cpuProfile})
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(b))
	mib := func(f float64) string { return fmt.Sprintf("%.1f KiB", f/1024) }
	fmt.Printf("| %s | %d streams | notified p50 %.0f ms, p99 %.0f ms, all %.0f ms | all synced %.2f s (%d pulling) | server %s heap + %s stacks, %s RSS per stream | %d errors |\n",
		res.DB, res.Streams, res.NotifyP50Ms, res.NotifyP99Ms, res.NotifyMaxMs, res.AllSyncedMs/1000, res.Pullers,
		mib(res.ServerPerStream.Heap), mib(res.ServerPerStream.Stacks), mib(res.ServerPerStream.RSS), res.Errors+len(res.Problems))
	if !res.OK() {
		return fmt.Errorf("streams run failed: %d errors; %s", res.Errors, strings.Join(res.Problems, "; "))
	}
	return nil
}

// streamsRun starts the server, the devices' process, and measures.
func streamsRun(o streamsOptions) (res streamsResult, err error) {
	if o.Streams <= 0 {
		return res, errors.New("-streams must be positive")
	}
	if o.Pullers <= 0 {
		o.Pullers = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	res = streamsResult{DB: o.DB, Streams: o.Streams, Pullers: o.Pullers, Products: streamsProducts, DeltaChanges: 2 * streamsChanged,
		SourceAddrs: (o.Streams + streamsPerAddr - 1) / streamsPerAddr}
	if err := raiseNoFile(uint64(o.Streams + streamsSpare)); err != nil {
		return res, err
	}
	deadline := time.Now().Add(o.Timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()

	st, closeStore, err := openStore(ctx, o.DB)
	if err != nil {
		return res, err
	}
	defer closeStore()

	admin := store.Actor{Name: "loadgen", Role: store.RoleAdmin}
	product := func(i int, price int64) catalog.ProductRecord {
		return catalog.ProductRecord{Product: catalog.Product{SKU: fmt.Sprintf("SKU-%06d", i), Name: fmt.Sprintf("Product number %d", i),
			Description: "A typical product description of moderate length, as catalogs have.", Category: fmt.Sprintf("Category %d", i%40),
			Brand: fmt.Sprintf("Brand %d", i%300), Price: price, Currency: "EUR", Active: true},
			Staff: catalog.ProductStaff{Cost: price / 2, Supplier: "Supplier"}}
	}
	stock := func(i int, qty int64) catalog.StockRecord {
		return catalog.StockRecord{Stock: catalog.Stock{SKU: fmt.Sprintf("SKU-%06d", i), Quantity: qty, Aisle: fmt.Sprintf("%dA", i%30), UpdatedAt: time.Now().UTC()}}
	}
	var ops []store.Op
	add := func(op store.Op, err error) {
		if err != nil {
			panic(err) // the generator's own records are valid
		}
		ops = append(ops, op)
	}
	add(store.PutStore(catalog.Store{ID: "s1", Name: "Load test store", TimeZone: "Europe/Paris"}))
	for i := range streamsProducts {
		add(store.PutProduct(product(i, int64(100+i))))
		add(store.PutStock("s1", stock(i, int64(i%60))))
	}
	if _, err := st.Write(ctx, admin, ops); err != nil {
		return res, err
	}
	cp1, _, err := st.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	if err != nil {
		return res, err
	}

	srv, err := server.New(st, server.Config{Rate: -1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NightlyInterval: -1,
		MaxStreams: max(o.Streams, 10000)})
	if err != nil {
		return res, err
	}
	defer srv.Shutdown(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	base := "http://" + ln.Addr().String()

	// The devices' process.
	exe, err := os.Executable()
	if err != nil {
		return res, err
	}
	cfg, _ := json.Marshal(devicesConfig{Base: base, Store: "s1", Streams: o.Streams, Pullers: o.Pullers, Deadline: deadline, CPUProfile: o.CPUProfile})
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), devicesEnv+"="+string(cfg))
	cmd.Stderr = o.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	toDevices, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	fromDevices, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		if err != nil {
			cmd.Process.Kill()
		}
		toDevices.Close()
		if werr := cmd.Wait(); werr != nil && err == nil {
			err = fmt.Errorf("devices' process: %w", werr)
		}
	}()
	lines := bufio.NewScanner(fromDevices)
	lines.Buffer(make([]byte, 64<<10), 16<<20)
	next := func(phase string) (devicesReport, error) {
		var r devicesReport
		if !lines.Scan() {
			if ctx.Err() != nil {
				return r, fmt.Errorf("timed out (-stream-timeout %s) waiting for the devices to be %s", o.Timeout, phase)
			}
			return r, fmt.Errorf("the devices' process ended before %s (%v)", phase, lines.Err())
		}
		if err := json.Unmarshal(lines.Bytes(), &r); err != nil || r.Phase != phase {
			return r, fmt.Errorf("devices said %q, expected phase %s", lines.Text(), phase)
		}
		return r, nil
	}

	synced, err := next("synced")
	if err != nil {
		return res, err
	}
	res.InitialSyncS = synced.InitialSyncS
	res.Errors += synced.InitialSyncErrors
	res.ServerBefore = measureMem()
	if _, err := fmt.Fprintln(toDevices, "open"); err != nil {
		return res, err
	}
	ready, err := next("ready")
	if err != nil {
		return res, err
	}
	res.ServerAfter = measureMem()
	res.HubStreams = srv.Hub().Streams()
	res.Opened, res.OpenS, res.ClientPerStream = ready.Opened, ready.OpenS, ready.ClientMem
	res.ServerPerStream = growth(res.ServerBefore, res.ServerAfter, res.HubStreams)
	res.Errors += ready.OpenErrors
	if ready.OpenErrors > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d streams failed to open (first: %s)", ready.OpenErrors, ready.FirstError))
	}
	if res.HubStreams != o.Streams {
		res.Problems = append(res.Problems, fmt.Sprintf("the hub holds %d streams, not %d", res.HubStreams, o.Streams))
	}
	if ready.HelloSeqs[cp1.Seq] != ready.Opened {
		res.Problems = append(res.Problems, fmt.Sprintf("hellos carried checkpoints %v, expected %d × %d", ready.HelloSeqs, ready.Opened, cp1.Seq))
	}

	// The day's change, then the publish everyone must hear.
	ops = ops[:0]
	for i := range streamsChanged {
		j := i * (streamsProducts / streamsChanged)
		add(store.PutProduct(product(j, int64(1000+j))))
		add(store.PutStock("s1", stock(j, int64(j%60+7))))
	}
	if _, err := st.Write(ctx, admin, ops); err != nil {
		return res, err
	}
	if o.CPUProfile != "" {
		stop, err := profileWindow(o.CPUProfile + ".publish")
		if err != nil {
			return res, err
		}
		defer stop()
	}
	cpu0 := cpuTime()
	t0 := time.Now()
	cp2, _, err := st.Publish(ctx, admin, "s1", wire.ReasonManual, "")
	if err != nil {
		return res, err
	}
	t1 := time.Now()
	srv.Hub().Broadcast(cp2) // as the publish route does
	res.PublishMs, res.BroadcastMs = ms(time.Since(t0)), ms(time.Since(t1))
	if o.afterPublish != nil {
		o.afterPublish(srv.Hub(), cp2)
	}
	res.Target = cp2
	wait := time.Until(deadline) - 5*time.Second
	if _, err := fmt.Fprintf(toDevices, "published %d %d %d\n", t0.UnixNano(), cp2.Seq, wait); err != nil {
		return res, err
	}
	out, err := next("result")
	if err != nil {
		return res, err
	}
	res.ServerCPUS = (cpuTime() - cpu0).Seconds()
	pprof.StopCPUProfile()
	res.DevicesCPUS = out.CPUS
	fmt.Fprintln(toDevices, "done")

	res.NotifiedCount, res.SyncedCount = out.Notified, out.Synced
	res.NotifyP50Ms, res.NotifyP99Ms, res.NotifyMaxMs = out.NotifyQ[0], out.NotifyQ[1], out.NotifyQ[2]
	res.SyncP50Ms, res.AllSyncedMs = out.SyncQ[0], out.SyncQ[2]
	res.Errors += out.SyncErrors + out.Broken

	// The reference: what every device must hold now.
	ref := &replica.Replica{Store: "s1", Audience: wire.AudiencePublic, Storage: replica.NewMem()}
	if _, err := ref.Sync(ctx, &client.Client{BaseURL: base}); err != nil {
		return res, fmt.Errorf("reference sync: %w", err)
	}
	refMem := ref.Storage.(*replica.Mem)
	var p catalog.Product
	if raw, ok := refMem.Entities()[replica.Key{Kind: wire.KindProduct, ID: "SKU-000000"}]; !ok || json.Unmarshal(raw.Data, &p) != nil || p.Price != 1000 {
		return res, fmt.Errorf("reference replica lacks the published change (product SKU-000000: %+v)", p)
	}
	want := replicaDigest(refMem)

	n := o.Streams
	if out.Notified != n {
		res.Problems = append(res.Problems, fmt.Sprintf("%d of %d devices heard the publish", out.Notified, n))
	}
	if out.Synced != n {
		res.Problems = append(res.Problems, fmt.Sprintf("%d of %d devices applied it", out.Synced, n))
	}
	if out.EventCounts[1] != n {
		res.Problems = append(res.Problems, fmt.Sprintf("checkpoint events per device (count: devices): %v; expected exactly 1 each", out.EventCounts))
	}
	if out.EventSeqs[cp2.Seq] != n || len(out.EventSeqs) != 1 {
		res.Problems = append(res.Problems, fmt.Sprintf("checkpoint events by seq: %v; expected %d × %d", out.EventSeqs, n, cp2.Seq))
	}
	if out.Applied[cp2.Seq] != n || len(out.Applied) != 1 {
		res.Problems = append(res.Problems, fmt.Sprintf("applied checkpoints by seq: %v; expected %d × %d", out.Applied, n, cp2.Seq))
	}
	if out.Digests[want] != n || len(out.Digests) != 1 {
		res.Problems = append(res.Problems, fmt.Sprintf("replica contents by digest: %v; expected %d × %s", out.Digests, n, want))
	}
	if out.Broken > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%d streams broke during the run", out.Broken))
	}
	return res, nil
}

// profileWindow ends the CPU profile that may be running (main's, of the
// whole process) and starts one into path; stop ends it.
func profileWindow(path string) (stop func(), err error) {
	pprof.StopCPUProfile()
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// replicaDigest hashes a replica's applied checkpoint and every record.
func replicaDigest(m *replica.Mem) string {
	meta, _ := m.Load(context.Background())
	ents := m.Entities()
	keys := make([]replica.Key, 0, len(ents))
	for k := range ents {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b replica.Key) int {
		if c := strings.Compare(string(a.Kind), string(b.Kind)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	h := sha256.New()
	fmt.Fprintf(h, "%d/%d\n", meta.Checkpoint.Seq, meta.Checkpoint.Version)
	for _, k := range keys {
		r := ents[k]
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\n", k.Kind, k.ID, r.Version, r.Data)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// device is one simulated installation in the devices' process.
type device struct {
	id     string
	rep    *replica.Replica
	hello  atomic.Int64 // seq of the hello's checkpoint
	events atomic.Int32 // checkpoint events after the hello
	seq    atomic.Int64 // seq of the last checkpoint event
	heard  atomic.Int64 // when the first checkpoint event arrived (Unix ns)
	synced atomic.Int64 // when the pull it asked for applied (Unix ns)
	ended  atomic.Bool  // the stream broke
}

// runDevices is the devices' process (see the top of this file).
func runDevices(cfgJSON string, in io.Reader, out io.Writer) error {
	var cfg devicesConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return err
	}
	if err := raiseNoFile(uint64(cfg.Streams + streamsSpare)); err != nil {
		return err
	}
	ctx, cancel := context.WithDeadline(context.Background(), cfg.Deadline)
	defer cancel()
	cmds := bufio.NewScanner(in)
	enc := json.NewEncoder(out)
	hostport, ok := strings.CutPrefix(cfg.Base, "http://")
	if !ok {
		return fmt.Errorf("base %q is not http://host:port", cfg.Base)
	}

	// Pullers: the real sync client over one shared transport.
	tr := &http.Transport{MaxIdleConns: cfg.Pullers, MaxIdleConnsPerHost: cfg.Pullers, MaxConnsPerHost: cfg.Pullers, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	devs := make([]*device, cfg.Streams)
	for i := range devs {
		devs[i] = &device{id: wire.NewDeviceID(), rep: &replica.Replica{Store: cfg.Store, Audience: wire.AudiencePublic, Storage: replica.NewMem()}}
	}
	var syncErrs atomic.Int64
	var firstErr atomic.Value
	pull := func(queue <-chan *device, done func(*device)) {
		var wg gosync.WaitGroup
		for range cfg.Pullers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for d := range queue {
					c := &client.Client{BaseURL: cfg.Base, Device: d.id, HTTP: hc}
					if _, err := d.rep.Sync(ctx, c); err != nil {
						syncErrs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					done(d)
				}
			}()
		}
		wg.Wait()
	}

	// Every device first applies the current checkpoint (a device that
	// opens its stream has synced before).
	t := time.Now()
	queue := make(chan *device, len(devs))
	for _, d := range devs {
		queue <- d
	}
	close(queue)
	pull(queue, func(*device) {})
	if err := enc.Encode(devicesReport{Phase: "synced", Streams: cfg.Streams, Pullers: cfg.Pullers,
		InitialSyncS: time.Since(t).Seconds(), InitialSyncErrors: int(syncErrs.Load())}); err != nil {
		return err
	}
	if !cmds.Scan() || cmds.Text() != "open" {
		return fmt.Errorf("expected open, got %q", cmds.Text())
	}

	// Open the streams, from several source addresses.
	before := measureMem()
	events := make(chan *device, len(devs))
	var hellos, ends gosync.WaitGroup
	var openErrs atomic.Int64
	t = time.Now()
	sem := make(chan struct{}, streamsDialers)
	for i, d := range devs {
		hellos.Add(1)
		ends.Add(1)
		sem <- struct{}{}
		a := i / streamsPerAddr
		src := &net.TCPAddr{IP: net.IPv4(127, 0, byte(a/250), byte(2+a%250))}
		go func() {
			defer ends.Done()
			once := gosync.OnceFunc(hellos.Done)
			defer once()
			err := d.watch(ctx, hostport, src, sem, once, events)
			if err != nil && ctx.Err() == nil && d.hello.Load() == 0 {
				openErrs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}()
	}
	hellos.Wait()
	openS := time.Since(t).Seconds()
	after := measureMem()
	helloSeqs := map[int64]int{}
	opened := 0
	for _, d := range devs {
		if s := d.hello.Load(); s != 0 {
			helloSeqs[s]++
			opened++
		}
	}
	fe, _ := firstErr.Load().(string)
	if err := enc.Encode(devicesReport{Phase: "ready", Streams: cfg.Streams, Pullers: cfg.Pullers, Opened: opened, OpenErrors: int(openErrs.Load()),
		FirstError: fe, OpenS: openS, HelloSeqs: helloSeqs, ClientMem: growth(before, after, opened)}); err != nil {
		return err
	}

	// The publish: pull on each checkpoint event, until everyone applied
	// the target.
	if !cmds.Scan() {
		return fmt.Errorf("expected published, got %v", cmds.Err())
	}
	var t0ns, target int64
	var wait time.Duration
	if _, err := fmt.Sscanf(cmds.Text(), "published %d %d %d", &t0ns, &target, &wait); err != nil {
		return fmt.Errorf("expected published, got %q", cmds.Text())
	}
	if cfg.CPUProfile != "" {
		stop, err := profileWindow(cfg.CPUProfile + ".devices")
		if err != nil {
			return err
		}
		defer stop()
	}
	cpu0 := cpuTime()
	var syncedN atomic.Int64
	allSynced := make(chan struct{})
	syncErrs.Store(0)
	pullQueue := make(chan *device, len(devs))
	go func() {
		for d := range events {
			pullQueue <- d
		}
		close(pullQueue)
	}()
	go pull(pullQueue, func(d *device) {
		meta, _ := d.rep.Storage.Load(ctx)
		if meta.Checkpoint.Seq >= target && d.synced.CompareAndSwap(0, time.Now().UnixNano()) {
			if syncedN.Add(1) == int64(opened) {
				close(allSynced)
			}
		}
	})
	if opened == 0 {
		close(allSynced)
	}
	timer := time.NewTimer(wait)
	select {
	case <-allSynced:
		// Stay a moment: a doubled event would arrive now.
		timer.Reset(streamsGrace)
		<-timer.C
	case <-timer.C:
	}
	cpuS := (cpuTime() - cpu0).Seconds()
	pprof.StopCPUProfile()

	rep := devicesReport{Phase: "result", Streams: cfg.Streams, Pullers: cfg.Pullers, SyncErrors: int(syncErrs.Load()), CPUS: cpuS,
		EventCounts: map[int]int{}, EventSeqs: map[int64]int{}, Applied: map[int64]int{}, Digests: map[string]int{}}
	var heard, synced []float64
	for _, d := range devs {
		if h := d.heard.Load(); h != 0 {
			heard = append(heard, float64(h-t0ns)/1e6)
		}
		if s := d.synced.Load(); s != 0 {
			synced = append(synced, float64(s-t0ns)/1e6)
		}
		n := int(d.events.Load())
		rep.EventCounts[n]++
		if n > 0 {
			rep.EventSeqs[d.seq.Load()] += n
		}
		m := d.rep.Storage.(*replica.Mem)
		meta, _ := m.Load(ctx)
		rep.Applied[meta.Checkpoint.Seq]++
		rep.Digests[replicaDigest(m)]++
		if d.ended.Load() {
			rep.Broken++
		}
	}
	rep.Notified, rep.Synced = len(heard), len(synced)
	rep.NotifyQ, rep.SyncQ = quantiles(heard), quantiles(synced)
	if err := enc.Encode(rep); err != nil {
		return err
	}
	// Hang up once the server has read the result.
	cmds.Scan()
	cancel() // closes the streams
	ends.Wait()
	close(events)
	return nil
}

// quantiles returns p50, p99 and max of xs (sorted in place).
func quantiles(xs []float64) [3]float64 {
	if len(xs) == 0 {
		return [3]float64{}
	}
	slices.Sort(xs)
	at := func(p float64) float64 { return xs[min(len(xs)-1, int(p*float64(len(xs))))] }
	return [3]float64{at(0.5), at(0.99), xs[len(xs)-1]}
}

// watch opens d's push stream from src and reads it until it ends: the
// hello calls hello, each checkpoint event queues d on events (once).
// It releases a slot of sem once the stream is open or failed.
func (d *device) watch(ctx context.Context, hostport string, src *net.TCPAddr, sem chan struct{}, hello func(), events chan<- *device) error {
	release := gosync.OnceFunc(func() { <-sem })
	defer release()
	dl := net.Dialer{LocalAddr: src, Timeout: 30 * time.Second}
	conn, err := dl.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return err
	}
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	req := "GET /v1/stores/s1/events HTTP/1.1\r\nHost: " + hostport + "\r\nAccept: text/event-stream\r\n" +
		wire.HeaderProtocol + ": " + strconv.Itoa(wire.ProtocolVersion) + "\r\n" + wire.HeaderDevice + ": " + d.id + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	br := bufio.NewReaderSize(conn, 512)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("events: %s: %s", resp.Status, b)
	}
	err = client.ReadEvents(resp.Body, func(typ string, data []byte) error {
		var ev wire.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return err
		}
		switch typ {
		case wire.EventHello:
			d.hello.Store(ev.Checkpoint.Seq)
			release()
			hello()
		case wire.EventCheckpoint:
			now := time.Now().UnixNano()
			d.seq.Store(ev.Checkpoint.Seq)
			if d.events.Add(1) == 1 {
				d.heard.Store(now)
				events <- d
			}
		}
		return nil
	})
	if ctx.Err() == nil {
		d.ended.Store(true)
	}
	if err == nil {
		err = errors.New("stream ended")
	}
	return err
}
