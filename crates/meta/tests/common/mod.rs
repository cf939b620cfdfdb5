//! The engines every conformance test runs on: a real SQLite file and a real PostgreSQL
//! database (one server per test process, a new database per test).
#![allow(dead_code)]

use std::sync::Arc;
use strata_meta::{MetaStore, ROOT_INO, SessionRecord, now_ns};
use uuid::Uuid;

pub struct Engine {
    pub meta: Arc<dyn MetaStore>,
    postgres: bool,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Engine {
    /// A new, empty database on the same engine.
    pub fn fresh(&self) -> Engine {
        if self.postgres { postgres() } else { sqlite() }
    }

    /// The same database, opened anew (as a restarted or second server would).
    pub fn reopen(&self) -> Arc<dyn MetaStore> {
        open_url(&self.url)
    }
}

fn open_url(url: &str) -> Arc<dyn MetaStore> {
    strata_meta::open_url(url).unwrap()
}

pub fn sqlite() -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("meta.db").display());
    Engine {
        meta: open_url(&url),
        postgres: false,
        url,
        _dir: Some(dir),
    }
}

pub fn postgres() -> Engine {
    let url = strata_testkit::postgres().new_database();
    Engine {
        meta: open_url(&url),
        postgres: true,
        url,
        _dir: None,
    }
}

/// Runs each named `fn(&Engine)` as a test on every engine.
#[macro_export]
macro_rules! on_every_engine {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(&$crate::common::sqlite()) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(&$crate::common::postgres()) })*
        }
    };
}

/// A mount session on the whole of volume `vol` (of the tests' organization, `org`), alive
/// until removed.
pub fn session_on(vol: Uuid, read_only: bool) -> SessionRecord {
    SessionRecord {
        id: Uuid::new_v4(),
        org: "org".into(),
        volume: vol,
        root_ino: ROOT_INO,
        read_only,
        secret: [7; 32],
        created_at: now_ns(),
        alive_until: i64::MAX,
        key: None,
    }
}
