//! The SQLite engine: one database file in WAL mode, the embedded default.
//!
//! One connection writes (SQLite has one writer at a time); reads run on connections of
//! their own, so a long write, a flatten or the fsync of the log never stalls a lookup.
//! Point queries go through rusqlite's statement cache: a FUSE lookup costs microseconds.

use super::sqlite_schema;
use crate::sql::{DbError, Dialect, Engine, Fail, Isolation, R, Row, SqlMeta, Tx, Value};
use crate::{Error, Result};
use parking_lot::{Mutex as FairMutex, MutexGuard};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The metadata engine on one SQLite file.
pub type SqliteMeta = SqlMeta<SqliteEngine>;

/// Idle read connections kept open.
const IDLE_READERS: usize = 8;

pub struct SqliteEngine {
    path: PathBuf,
    /// Handed to writers in the order they came (`unlock_fair`): a long job made of many
    /// short transactions (a flatten) lets every other writer in between its steps.
    writer: FairMutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl SqlMeta<SqliteEngine> {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let fail = |e: &dyn std::fmt::Display| Error::internal(format!("open {}: {e}", path.display()));
        let mut conn = connect(path).map_err(|e| fail(&e))?;
        let found: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| fail(&e))?;
        let migrations = sqlite_schema::migrations();
        super::check_version(found, sqlite_schema::COUNT, "SQLite")?;
        migrations.to_latest(&mut conn).map_err(|e| fail(&e))?;
        Ok(SqlMeta::with_engine(SqliteEngine {
            path: path.to_owned(),
            writer: FairMutex::new(conn),
            readers: Mutex::default(),
        }))
    }
}

fn connect(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL lets readers run beside the writer. NORMAL: a commit survives a crash of the
    // process at once and power loss after the next `sync` (an fsync of the WAL).
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Pages are read through a shared mapping of the file, not copied into each
    // connection's small cache by a system call per miss.
    conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
    // Statements name the layers they read, so each volume has its own few: keep many.
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

fn db_error(e: rusqlite::Error) -> Fail {
    Fail::Db(match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::ConstraintViolation
                if matches!(
                    f.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                ) =>
            {
                DbError::Duplicate
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DbError::Unavailable("database is busy".into()),
            _ => DbError::Other(e.to_string()),
        },
        _ => DbError::Other(e.to_string()),
    })
}

/// `$1` parameters (the shared dialect) as SQLite's `?1`.
fn sqlite_sql(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = sql.as_bytes().to_vec();
    for i in 0..out.len().saturating_sub(1) {
        if out[i] == b'$' && out[i + 1].is_ascii_digit() {
            out[i] = b'?';
        }
    }
    // Only ASCII bytes were replaced by ASCII bytes: the text is as valid as it was.
    Cow::Owned(String::from_utf8(out).unwrap_or_else(|_| sql.to_owned()))
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Blob(v) => ValueRef::Blob(v),
        }))
    }
}

/// A transaction on a connection, and whether it only reads.
struct SqliteTx<'c>(&'c Connection, bool);

impl Tx for SqliteTx<'_> {
    fn query(&self, sql: &str, params: &[Value]) -> R<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql)).map_err(db_error)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(params)).map_err(db_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db_error)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(match row.get_ref(i).map_err(db_error)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }

    fn exec(&self, sql: &str, params: &[Value]) -> R<u64> {
        let mut stmt = self.0.prepare_cached(&sqlite_sql(sql)).map_err(db_error)?;
        Ok(stmt.execute(rusqlite::params_from_iter(params)).map_err(db_error)? as u64)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn read_only(&self) -> bool {
        self.1
    }
}

impl Engine for SqliteEngine {
    fn read<T>(&self, f: &mut dyn FnMut(&dyn Tx) -> R<T>) -> R<T> {
        let idle = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => connect(&self.path).map_err(db_error)?,
        };
        let out = {
            let tx = conn.transaction().map_err(db_error)?;
            f(&SqliteTx(&tx, true))
        };
        let mut readers = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if readers.len() < IDLE_READERS {
            readers.push(conn);
        }
        out
    }

    fn write<T>(&self, _isolation: Isolation, f: &mut dyn FnMut(&dyn Tx) -> R<T>) -> R<T> {
        // The one writer sees one state whatever the isolation asked for.
        let mut conn = self.writer.lock();
        let out = (|| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db_error)?;
            let out = f(&SqliteTx(&tx, false))?;
            tx.commit().map_err(db_error)?;
            Ok(out)
        })();
        MutexGuard::unlock_fair(conn);
        out
    }

    fn sync(&self) -> R<()> {
        // Hold the writer so that no commit is half-written into the WAL while it syncs.
        let _writer = self.writer.lock();
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        match std::fs::File::open(&wal) {
            Ok(f) => f
                .sync_data()
                .map_err(|e| Fail::Db(DbError::Other(format!("sync metadata log: {e}")))),
            // No log: everything is checkpointed (and synced) into the database file.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Fail::Db(DbError::Other(format!("sync metadata log: {e}")))),
        }
    }
}
