//! PostgreSQL restarted under running servers: they reconnect by themselves. Its own test
//! binary: it restarts the process's PostgreSQL server.

mod common;
use common::Server;

#[test]
fn servers_reconnect_after_postgres_restarts() {
    let a = Server::start_shared(&[]);
    let b = a.another();
    a.ok(&["volume", "create", "v"]);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("f");
    std::fs::write(&local, b"kept").unwrap();
    a.ok(&["fs", "put", local.to_str().unwrap(), "v:/f"]);
    // Warm both servers' connection pools, so that they hold connections that will die.
    assert_eq!(b.ok(&["fs", "cat", "v:/f"]), "kept");

    strata_testkit::postgres().restart();

    // The first request after the restart succeeds on each server: dead pooled connections
    // are replaced before the request fails.
    assert_eq!(a.ok(&["fs", "cat", "v:/f"]), "kept");
    assert_eq!(b.ok(&["fs", "cat", "v:/f"]), "kept");
    a.ok(&["fs", "put", local.to_str().unwrap(), "v:/g"]);
    assert_eq!(b.ok(&["fs", "cat", "v:/g"]), "kept");
}
