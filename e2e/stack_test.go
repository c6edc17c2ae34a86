package e2e

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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/corso-temporal/corso/graphsim"
)

// stack is the running dev stack plus workers shared by every test.
type stack struct {
	binDir  string
	dataDir string
	env     map[string]string
	logs    []string // files holding every process's output, scanned for secrets
	procs   []*exec.Cmd
	workers []*exec.Cmd
	tmp     string
}

var dev *stack

func TestMain(m *testing.M) {
	code, err := runWithStack(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func runWithStack(m *testing.M) (code int, err error) {
	var tmp string
	tmp, err = os.MkdirTemp("", "corso-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	binDir, err := buildBinaries(tmp)
	if err != nil {
		return 0, err
	}
	dev = &stack{binDir: binDir, dataDir: filepath.Join(tmp, "dev"), tmp: tmp}
	defer dev.stop()
	if err := dev.start(tmp); err != nil {
		return 0, err
	}
	tenant, err = startSimulator(graphsim.Options{Tenant: graphsim.TenantOptions{Seed: 42, Users: 3, ItemsPerUser: 80}})
	if err != nil {
		return 0, err
	}
	defer tenant.close()
	for i := 1; i <= 2; i++ {
		if _, err := dev.startWorker(fmt.Sprintf("e2e-worker-%d", i), tenant.workerEnv()); err != nil {
			return 0, err
		}
	}
	return m.Run(), nil
}

// buildBinaries uses CORSO_BIN_DIR when `make` already built them.
func buildBinaries(tmp string) (string, error) {
	if dir := os.Getenv("CORSO_BIN_DIR"); dir != "" {
		return filepath.Abs(dir)
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	dir := filepath.Join(tmp, "bin")
	for name, pkg := range map[string]string{"corso": "./starter", "corso-worker": "./worker", "corso-dev": "./devstack"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
	}
	return dir, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *stack) logFile(tmp, name string) (*os.File, error) {
	p := filepath.Join(tmp, name+".log")
	s.logs = append(s.logs, p)
	return os.Create(p)
}

func (s *stack) start(tmp string) error {
	var ports []string
	for range 5 {
		p, err := freePort()
		if err != nil {
			return err
		}
		ports = append(ports, strconv.Itoa(p))
	}
	out, err := s.logFile(tmp, "corso-dev")
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(s.binDir, "corso-dev"), "up", "--data-dir", s.dataDir,
		"--temporal-port", ports[0], "--ui-port", ports[1], "--codec-port", ports[2], "--s3-port", ports[3], "--graph-port", ports[4], "--users", "2", "--items-per-user", "20")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return err
	}
	s.procs = append(s.procs, cmd)
	envPath := filepath.Join(s.dataDir, "corso-dev.env")
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if env, err := readEnvFile(envPath); err == nil {
			s.env = env
			s.env["CORSO_TEMPORAL_UI"] = env["CORSO_TEMPORAL_UI"]
			return nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	b, _ := os.ReadFile(out.Name())
	return fmt.Errorf("corso-dev did not become ready:\n%s", b)
}

// startWorker starts one corso-worker with extra environment and flags, and
// waits until it polls.
func (s *stack) startWorker(identity string, env map[string]string, flags ...string) (*exec.Cmd, error) {
	out, err := s.logFile(s.tmp, identity)
	if err != nil {
		return nil, err
	}
	args := append([]string{"--identity", identity, "--data-dir", filepath.Join(s.tmp, identity), "--log-level", "debug"}, flags...)
	cmd := exec.Command(filepath.Join(s.binDir, "corso-worker"), args...)
	cmd.Env = s.environ(env)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s.procs = append(s.procs, cmd)
	s.workers = append(s.workers, cmd)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(out.Name())
		if bytes.Contains(b, []byte("corso-worker polling")) {
			return cmd, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(out.Name())
	return nil, fmt.Errorf("worker %s did not start:\n%s", identity, b)
}

func (s *stack) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		p := s.procs[i]
		if p.Process == nil || p.ProcessState != nil {
			continue
		}
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = p.Process.Kill()
			<-done
		}
	}
}

// environ is the dev stack's environment for a child process, with extra
// entries (KEY=value) on top and no inherited AWS or corso settings.
func (s *stack) environ(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "CORSO_") || strings.HasPrefix(k, "TEMPORAL_") {
			continue
		}
		env = append(env, kv)
	}
	merged := map[string]string{}
	for k, v := range s.env {
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

// result is one finished CLI run.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// corso runs the CLI with the dev stack's environment plus extra.
func corso(t *testing.T, extra map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dev.binDir, "corso"), args...)
	cmd.Env = dev.environ(extra)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		} else {
			t.Fatalf("run corso %v: %v", args, err)
		}
	}
	return r
}

func readEnvFile(path string) (map[string]string, error) {
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
