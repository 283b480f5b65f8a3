// Package pgserver is the real-process tier of the PostgreSQL
// configuration: it starts Debian's PostgreSQL with exactly the parameters
// components/postgres/pgconf gives the CloudNativePG Cluster (a primary, and
// a streaming standby of it) on 127.0.0.1 only. This file holds the process
// plumbing; the tests are in pgserver_test.go.
package pgserver

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/lib/pq" // database/sql driver "postgres"
)

// BinDir is the bin directory of the highest PostgreSQL major version
// Debian installed (/usr/lib/postgresql/<major>/bin).
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestV := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "postgres")); err != nil {
			continue
		}
		if v > bestV {
			best, bestV = d, v
		}
	}
	if best == "" {
		return "", errors.New("no /usr/lib/postgresql/*/bin/postgres: ./test.sh installs Debian's postgresql (apt-get install postgresql)")
	}
	return best, nil
}

// FreePort is a TCP port on 127.0.0.1 nobody listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Env is where servers run: the binaries and, when the tests run as root
// (PostgreSQL refuses to), the postgres system user every PostgreSQL
// program runs as.
type Env struct {
	Bin      string
	uid, gid int
	asUser   bool
}

// NewEnv finds the binaries and, as root, the postgres user.
func NewEnv() (*Env, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	e := &Env{Bin: bin}
	if os.Geteuid() != 0 {
		return e, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and no postgres user to run PostgreSQL as (./test.sh installs Debian's postgresql): %w", err)
	}
	e.uid, _ = strconv.Atoi(u.Uid)
	e.gid, _ = strconv.Atoi(u.Gid)
	e.asUser = true
	return e, nil
}

// Command is a PostgreSQL program of Bin, run as the postgres user when
// the tests run as root, in its own process group.
func (e *Env) Command(ctx context.Context, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(e.Bin, prog), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if e.asUser {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(e.uid), Gid: uint32(e.gid)}
		cmd.Env = append(os.Environ(), "HOME="+os.TempDir(), "USER=postgres", "LOGNAME=postgres")
	}
	return cmd
}

// Own gives path to the postgres user (a no-op unless running as root).
func (e *Env) Own(path string) error {
	if !e.asUser {
		return nil
	}
	return os.Chown(path, e.uid, e.gid)
}

// MkdirTemp is a fresh directory under os.TempDir() (world-traversable
// parents, unlike testing's TempDir) that the postgres user owns.
func (e *Env) MkdirTemp(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	if err := e.Own(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// WriteFile writes a file the postgres user owns.
func (e *Env) WriteFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		return err
	}
	return e.Own(path)
}

// Server is one postmaster on 127.0.0.1:Port with its data directory Data
// under Dir (which is also its unix socket directory).
type Server struct {
	Env  *Env
	Dir  string
	Data string
	Port int
	Log  string // the server's stderr

	cmd  *exec.Cmd
	done chan struct{} // closed when the postmaster exited
}

// InitDB creates a cluster in dir/data: superuser postgres, trust
// authentication (the servers only listen on 127.0.0.1 and a 0700
// directory), and includes tars.conf and test.conf from postgresql.conf.
func (e *Env) InitDB(ctx context.Context, dir string) (*Server, error) {
	s := &Server{Env: e, Dir: dir, Data: filepath.Join(dir, "data"), Log: filepath.Join(dir, "server.log")}
	out, err := e.Command(ctx, "initdb", "-D", s.Data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := s.includeConf(); err != nil {
		return nil, err
	}
	return s, nil
}

// BaseBackup clones the running primary p into dir/data with
// pg_basebackup -R -X stream (a streaming standby once started) over
// 127.0.0.1 as the replication user postgres.
func (p *Server) BaseBackup(ctx context.Context, dir string) (*Server, error) {
	s := &Server{Env: p.Env, Dir: dir, Data: filepath.Join(dir, "data"), Log: filepath.Join(dir, "server.log")}
	out, err := p.Env.Command(ctx, "pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(p.Port), "-U", "postgres",
		"-D", s.Data, "-R", "-X", "stream", "--checkpoint=fast", "--no-sync").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	return s, nil
}

func (s *Server) includeConf() error {
	f, err := os.OpenFile(filepath.Join(s.Data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("\n# T.A.R.S. parameters, then the test's own settings.\ninclude 'tars.conf'\ninclude 'test.conf'\n")
	return errors.Join(err, f.Close())
}

// Configure writes tars.conf: the given postgresql.conf lines (pgconf.Conf)
// and shared_preload_libraries.
func (s *Server) Configure(conf string, preload []string) error {
	conf += fmt.Sprintf("shared_preload_libraries = '%s'\n", strings.Join(preload, ","))
	return s.Env.WriteFile(filepath.Join(s.Data, "tars.conf"), conf)
}

// WriteHBA replaces pg_hba.conf with lines (test only).
func (s *Server) WriteHBA(lines ...string) error {
	return s.Env.WriteFile(filepath.Join(s.Data, "pg_hba.conf"), strings.Join(lines, "\n")+"\n")
}

// configProblem are the server log lines that mean PostgreSQL refused (or
// dropped) part of its configuration, or did not come up.
var configProblem = regexp.MustCompile(`invalid value for parameter|unrecognized configuration parameter|invalid configuration parameter name|contains errors|FATAL|PANIC`)

var paramName = regexp.MustCompile(`parameter(?: name)? "([^"]+)"`)

// Start writes test.conf (127.0.0.1:a free port, the unix socket in Dir,
// hot_standby on), starts the postmaster and waits up to timeout until it
// accepts connections. It fails with the offending log lines, naming the
// parameters, when PostgreSQL refuses any of its configuration.
func (s *Server) Start(timeout time.Duration) error {
	port, err := FreePort()
	if err != nil {
		return err
	}
	s.Port = port
	test := fmt.Sprintf("# Test only: loopback, a free port, the socket in the test's directory.\n"+
		"listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nhot_standby = on\n", port, s.Dir)
	if err := s.Env.WriteFile(filepath.Join(s.Data, "test.conf"), test); err != nil {
		return err
	}
	logf, err := os.OpenFile(s.Log, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close() // the child keeps its own descriptor
	s.cmd = s.Env.Command(context.Background(), "postgres", "-D", s.Data)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()

	// Ready when the log says so (connecting earlier makes the server log
	// "FATAL: the database system is starting up", which Problems reports).
	deadline := time.Now().Add(timeout)
	for {
		log := s.ReadLog()
		if bad := s.Problems(); bad != nil {
			s.Stop()
			return bad
		}
		if strings.Contains(log, "database system is ready to accept") {
			break
		}
		select {
		case <-s.done:
			if bad := s.Problems(); bad != nil {
				return bad
			}
			return fmt.Errorf("postgres exited during startup (%v):\n%s", s.cmd.ProcessState, log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("postgres not ready after %s:\n%s", timeout, s.ReadLog())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Until(deadline)+5*time.Second)
	defer cancel()
	db, err := s.DB()
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("postgres logged ready but refuses connections: %w\n%s", err, s.ReadLog())
	}
	return s.Problems()
}

// ReadLog is the server's log so far.
func (s *Server) ReadLog() string {
	b, _ := os.ReadFile(s.Log)
	return string(b)
}

// Problems is an error naming every parameter PostgreSQL refused, with the
// log lines saying so (or any FATAL/PANIC line), or nil.
func (s *Server) Problems() error {
	var lines, params []string
	sc := bufio.NewScanner(bytes.NewReader([]byte(s.ReadLog())))
	for sc.Scan() {
		l := sc.Text()
		if !configProblem.MatchString(l) {
			continue
		}
		lines = append(lines, l)
		for _, m := range paramName.FindAllStringSubmatch(l, -1) {
			if !slices.Contains(params, m[1]) {
				params = append(params, m[1])
			}
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("postgres refused parameters %v:\n%s", params, strings.Join(lines, "\n"))
}

// DSN is the connection string of database postgres as user postgres.
func (s *Server) DSN() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=5", s.Port)
}

// DB is a connection pool to the server.
func (s *Server) DB() (*sql.DB, error) { return sql.Open("postgres", s.DSN()) }

// Stop shuts the server down fast (SIGINT) and kills its process group if
// it has not exited within 30 s. Safe to call twice.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pid := s.cmd.Process.Pid
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-s.done
	}
}
