// Package rietest runs the Lambda bootstrap under the AWS Lambda runtime
// interface emulator (aws-lambda-rie) for end-to-end tests and benchmarks.
//
// The emulator takes two fixed addresses on its command line (its own
// invoke endpoint and the Runtime API the bootstrap polls) and panics when
// either is taken. A port chosen free a moment before can be taken by then
// (any outgoing connection on the machine draws from the same ephemeral
// range), so Start picks its ports below that range and starts the emulator
// again on new ports when it dies before both listen.
package rietest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// attempts bounds how often Start retries an emulator that did not come up.
const attempts = 5

// Function is one emulated Lambda function: aws-lambda-rie running the bootstrap.
type Function struct {
	// URL is the function's invoke endpoint, as the Lambda Invoke API serves it.
	URL  string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// Start runs boot under aws-lambda-rie with _HANDLER=handler, fixed fake AWS
// credentials, and env ("KEY=value"), and waits until both of the
// emulator's addresses listen. The process group is killed when tb ends.
func Start(tb testing.TB, boot, handler string, env []string) *Function {
	tb.Helper()
	rie, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		tb.Skip("aws-lambda-rie is not on PATH: go install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@latest")
	}
	var last string
	for range attempts {
		addr, api := freeAddr(tb), freeAddr(tb)
		for api == addr {
			api = freeAddr(tb)
		}
		f, ok := start(tb, rie, boot, handler, env, addr, api)
		if ok {
			return f
		}
		last = f.Output()
	}
	tb.Fatalf("aws-lambda-rie for %s did not come up in %d attempts; last output:\n%s", handler, attempts, last)
	return nil
}

// start makes one attempt on addr (invoke) and api (Runtime API); false
// means the emulator died or never listened.
func start(tb testing.TB, rie, boot, handler string, env []string, addr, api string) (*Function, bool) {
	tb.Helper()
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, boot)
	cmd.Dir = filepath.Dir(boot)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + tb.TempDir(), "_HANDLER=" + handler, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDRIETEST", "AWS_SECRET_ACCESS_KEY=rietest-aws-secret", "AWS_EC2_METADATA_DISABLED=true"}, env...)
	f := &Function{URL: "http://" + addr + "/2015-03-31/functions/function/invocations", cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = f.out, f.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start aws-lambda-rie: %v", err)
	}
	go func() { _ = cmd.Wait(); close(f.done) }()
	for range 100 { // bounded wait: 100 × 100 ms
		select {
		case <-f.done:
			return f, false
		default:
		}
		if listening(addr) && listening(api) {
			tb.Cleanup(f.Stop)
			return f, true
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.Stop()
	return f, false
}

// listening reports whether addr accepts a TCP connection.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freeAddr returns a loopback address whose port, in 20000-32767 (below
// Linux's default ephemeral range 32768-60999), is free now.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	for range 1000 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+rand.IntN(12768))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		return addr
	}
	tb.Fatal("no free loopback port in 20000-32767")
	return ""
}

// Output is everything the emulator and the bootstrap printed so far.
func (f *Function) Output() string { return f.out.String() }

// Stop kills the emulator's process group and waits for it; it is safe to call twice.
func (f *Function) Stop() {
	if f.cmd.Process != nil {
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-f.done
}

// lockedBuffer collects output written by the process's copy goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
