// Package localstack starts corso's binaries on this machine for tests and
// benchmarks: `corso-dev up` on free 127.0.0.1 ports, any number of
// `corso-worker` processes, and the `corso` CLI. It stops what it starts.
// It links none of the servers itself; it runs the built binaries.
package localstack

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Stack is a running corso-dev plus the workers started on it.
type Stack struct {
	BinDir string
	Dir    string
	// Env is corso-dev's env file: Temporal, S3, codec key, simulator.
	Env map[string]string

	mu       sync.Mutex
	procs    []*exec.Cmd
	logs     []string
	dataDirs []string
	// dev is the running corso-dev, started with devArgs.
	dev      *exec.Cmd
	devArgs  []string
	restarts int
}

// BuildBinaries builds corso, corso-worker and corso-dev into dir, unless
// CORSO_BIN_DIR names a folder where `make build` put them.
func BuildBinaries(dir string) (string, error) {
	if bin := os.Getenv("CORSO_BIN_DIR"); bin != "" {
		return filepath.Abs(bin)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	for name, pkg := range map[string]string{"corso": "./starter", "corso-worker": "./worker", "corso-dev": "./devstack"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
	}
	return dir, nil
}

// FreePort returns a port nothing listens on right now.
func FreePort() (int, error) {
	ps, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ps[0], nil
}

// FreePorts returns n different ports nothing listens on right now: each
// is held until all are chosen, so the system cannot hand out one twice.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Start runs `corso-dev up` in dir on free ports and waits for its env
// file. extra flags go to corso-dev (tenant size, for example).
func Start(binDir, dir string, extra ...string) (*Stack, error) {
	s := &Stack{BinDir: binDir, Dir: dir}
	args := []string{"up", "--data-dir", filepath.Join(dir, "dev")}
	flags := []string{"--temporal-port", "--ui-port", "--codec-port", "--s3-port", "--graph-port"}
	ports, err := FreePorts(len(flags))
	if err != nil {
		return nil, err
	}
	for i, flag := range flags {
		args = append(args, flag, strconv.Itoa(ports[i]))
	}
	s.devArgs = append(args, extra...)
	if err := s.startDev("corso-dev"); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// startDev runs corso-dev with the stack's arguments and waits for its env
// file.
func (s *Stack) startDev(logName string) error {
	envPath := filepath.Join(s.Dir, "dev", "corso-dev.env")
	cmd, logPath, err := s.start(logName, filepath.Join(s.BinDir, "corso-dev"), s.devArgs, nil)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.dev = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if env, err := ReadEnvFile(envPath); err == nil {
			s.Env = env
			return nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	return fmt.Errorf("corso-dev did not become ready:\n%s", b)
}

// Restart stops corso-dev (Temporal, the Web UI, S3), leaves it down for
// down, and starts it again on the same ports and data dir, as an operator
// restarting the servers does. Workers keep running throughout.
func (s *Stack) Restart(down time.Duration) error {
	s.mu.Lock()
	dev := s.dev
	s.restarts++
	logName := fmt.Sprintf("corso-dev-%d", s.restarts)
	s.mu.Unlock()
	Terminate(dev)
	for deadline := time.Now().Add(15 * time.Second); dev.Process.Signal(syscall.Signal(0)) == nil && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // until it is reaped, and its ports and data dir lock are free
	}
	time.Sleep(down)
	// corso-dev removes its env file when it stops; a killed one leaves it.
	_ = os.Remove(filepath.Join(s.Dir, "dev", "corso-dev.env"))
	return s.startDev(logName)
}

func (s *Stack) start(name, bin string, args, env []string) (*exec.Cmd, string, error) {
	logPath := filepath.Join(s.Dir, name+".log")
	out, err := os.Create(logPath)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, "", err
	}
	go func() { _ = cmd.Wait(); out.Close() }()
	s.mu.Lock()
	s.procs = append(s.procs, cmd)
	s.logs = append(s.logs, logPath)
	s.mu.Unlock()
	return cmd, logPath, nil
}

// Logs lists the files holding every started process's output.
func (s *Stack) Logs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string{}, s.logs...)
}

// StartWorker runs a corso-worker with the stack's environment plus env,
// and waits until it polls.
func (s *Stack) StartWorker(identity string, env map[string]string, flags ...string) (*exec.Cmd, error) {
	dataDir := filepath.Join(s.Dir, identity)
	args := append([]string{"--identity", identity, "--data-dir", dataDir, "--log-level", "debug"}, flags...)
	cmd, logPath, err := s.start(identity, filepath.Join(s.BinDir, "corso-worker"), args, s.Environ(env))
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if !slices.Contains(s.dataDirs, dataDir) {
		s.dataDirs = append(s.dataDirs, dataDir)
	}
	s.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(logPath)
		if bytes.Contains(b, []byte("corso-worker polling")) {
			return cmd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("worker %s did not start:\n%s", identity, b)
}

// WorkerDirs lists the data dirs of every worker started.
func (s *Stack) WorkerDirs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dataDirs)
}

// CLITempDir is the temporary folder of every CLI run, so what a run
// leaves behind can be looked at.
func (s *Stack) CLITempDir() string { return filepath.Join(s.Dir, "cli-tmp") }

// Stop ends every process, workers first, corso-dev last.
func (s *Stack) Stop() {
	s.mu.Lock()
	procs := append([]*exec.Cmd{}, s.procs...)
	s.mu.Unlock()
	for i := len(procs) - 1; i >= 0; i-- {
		Terminate(procs[i])
	}
}

// Terminate stops a process with SIGTERM, then SIGKILL after 15 s.
func Terminate(p *exec.Cmd) {
	if p.Process == nil {
		return
	}
	if p.Process.Signal(syscall.SIGTERM) != nil {
		return // already gone
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if p.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = p.Process.Kill()
}

// Environ is the stack's environment for a child process, with extra on
// top (an empty value unsets) and no inherited AWS, corso or Temporal
// settings.
func (s *Stack) Environ(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "CORSO_") || strings.HasPrefix(k, "TEMPORAL_") || strings.HasPrefix(k, "AZURE_") {
			continue
		}
		env = append(env, kv)
	}
	merged := map[string]string{}
	for k, v := range s.Env {
		merged[k] = v
	}
	for k, v := range extra {
		merged[k] = v
	}
	for k, v := range merged {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Result is one finished CLI run.
type Result struct {
	Stdout, Stderr string
	Code           int
	Took           time.Duration
}

// Corso runs the CLI with the stack's environment plus env.
func (s *Stack) Corso(ctx context.Context, env map[string]string, args ...string) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.BinDir, "corso"), args...)
	cmd.Env = append(s.Environ(env), "TMPDIR="+s.CLITempDir())
	if err := os.MkdirAll(s.CLITempDir(), 0o700); err != nil {
		return Result{}, err
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := Result{Stdout: out.String(), Stderr: errb.String(), Took: time.Since(start)}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			return r, err
		}
		r.Code = ee.ExitCode()
	}
	return r, nil
}

// ReadEnvFile parses corso-dev's env file.
func ReadEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("bad env line %q", line)
		}
		if strings.HasPrefix(v, "'") {
			v = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
		}
		env[k] = v
	}
	for _, k := range []string{"TEMPORAL_ADDRESS", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CORSO_S3_ENDPOINT", "CORSO_CODEC_KEY"} {
		if env[k] == "" {
			return nil, fmt.Errorf("%s lacks %s", path, k)
		}
	}
	return env, sc.Err()
}

// DevPID is the process id of the stack's corso-dev (Temporal, Web UI,
// S3 server).
func (s *Stack) DevPID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dev.Process.Pid
}

// CPUTime is the processor time a process has used so far, user and
// system.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces: state is the
	// first, utime and stime the 12th and 13th, in clock ticks.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unreadable /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	// USER_HZ, which /proc reports in, is 100 on every Linux.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// PeakRSS is a process's high-water resident set size in bytes (Linux).
func PeakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, err := strconv.ParseInt(f[1], 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM for pid %d", pid)
}
