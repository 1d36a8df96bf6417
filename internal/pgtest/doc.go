// Package pgtest starts a real PostgreSQL server for tests.
//
// The server is a child of the test binary, with its data directory and unix
// socket in a fresh temporary directory (in /dev/shm when it has a gigabyte
// free, as creating databases there is several times faster, else in
// $TMPDIR), listening on 127.0.0.1 on a free port, tuned for throw-away data
// (fsync, synchronous_commit and full_page_writes off). Each test gets its own database from NewDatabase,
// dropped again when the test ends, so tests can run in parallel.
//
// One server per test package is enough. Declare a Shared and stop it from
// TestMain; stopping it from the first test's t.Cleanup would kill it under
// the tests that still run:
//
//	var pg pgtest.Shared
//
//	func TestMain(m *testing.M) { os.Exit(pg.Run(m)) }
//
//	func TestSomething(t *testing.T) {
//		url := pg.NewDatabase(t) // postgres://postgres@127.0.0.1:PORT/test_1?sslmode=disable
//		...
//	}
//
// Start gives a test its own server, stopped in t.Cleanup.
//
// # Finding PostgreSQL
//
// The binaries initdb and postgres are looked up, in order, in the directory
// named by $PGTEST_BINDIR, on $PATH, in /usr/local/pgsql/bin, and in the newest
// /usr/lib/postgresql/*/bin (Debian and Ubuntu's postgresql package). Symbolic
// links are resolved, so that initdb and postgres come from one installation.
// When they are missing, tests that need a server are skipped with a loud
// message, except when $CI is true: there they fail, because these tests are
// mandatory in CI.
//
// # Running as root
//
// PostgreSQL refuses to run as root. When the test binary runs as root (as in
// containers and many CI runners), initdb and postgres run as the user
// "postgres" if it exists, else "nobody", through
// exec.Cmd.SysProcAttr.Credential; the temporary directory is chowned to that
// user and is placed under a directory every user can traverse.
//
// # Never orphaned
//
// The server runs in its own process group with a parent-death signal
// (SIGQUIT, PostgreSQL's immediate shutdown) so that it goes away even if the
// test binary panics, times out or is killed. Stop sends SIGQUIT too (what
// pg_ctl stop -m immediate does), then SIGKILLs the whole process group if
// the server has not exited within ten seconds, and removes the temporary
// directory. Directories left by a test binary that died are removed by the
// next start, once neither their owner nor their server is alive.
package pgtest
