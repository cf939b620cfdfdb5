//! The one SQL layer: every rule of the metadata model, written once for every engine.
//!
//! POSIX policy (path resolution, rename rules, link counts), layers, forks, snapshots,
//! flattening, record locks and the GC marking live in this folder and talk to the database
//! only through [`Tx`]: run a statement, get rows of [`Value`]s. An engine (SQLite,
//! PostgreSQL) supplies connections, transactions and the small differences of its SQL
//! dialect; it knows nothing of inodes. Statements are written once, in the subset both
//! engines speak, with `$1`-style parameters.
//!
//! Concurrency is the engine's promise, stated by [`Isolation`]: SQLite runs one writer at a
//! time; PostgreSQL runs writers of different volumes side by side and serialises writers of
//! one volume on its row (`Tx::for_update`).

mod blocks;
mod diff;
mod flatten;
mod fsck;
pub(crate) mod history;
mod keys;
mod layer_filter;
mod locks;
mod merge;
mod meta;
mod ops;
mod paths;
mod quotas;
mod sandboxes;
mod tree;
mod volumes;

pub use meta::SqlMeta;

use crate::{Error, ErrorKind};

/// One SQL value, as both engines store it: integers (and booleans as 0/1), text, bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(v as i64)
            }
        }
    )*};
}
int_values!(i64, i32, u32, u64, usize);

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl From<&Vec<u8>> for Value {
    fn from(v: &Vec<u8>) -> Self {
        Value::Blob(v.clone())
    }
}
impl From<&[u8; 32]> for Value {
    fn from(v: &[u8; 32]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl From<uuid::Uuid> for Value {
    fn from(v: uuid::Uuid) -> Self {
        Value::Text(v.to_string())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// Statement parameters: `vals![a, b, c]`.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::sql::Value::from($v)),*] };
}
pub(crate) use vals;

/// One result row.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn at(&self, i: usize) -> R<&Value> {
        self.0
            .get(i)
            .ok_or_else(|| Fail::Db(DbError::Other(format!("result has no column {i}"))))
    }

    fn mismatch(&self, i: usize, want: &str) -> Fail {
        Fail::Db(DbError::Other(format!("column {i} is not {want}: {:?}", self.0.get(i))))
    }

    pub fn i64(&self, i: usize) -> R<i64> {
        match self.at(i)? {
            Value::Int(v) => Ok(*v),
            _ => Err(self.mismatch(i, "an integer")),
        }
    }

    pub fn opt_i64(&self, i: usize) -> R<Option<i64>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }

    pub fn u64(&self, i: usize) -> R<u64> {
        Ok(self.i64(i)? as u64)
    }

    pub fn u32(&self, i: usize) -> R<u32> {
        u32::try_from(self.i64(i)?).map_err(|_| self.mismatch(i, "a 32-bit integer"))
    }

    pub fn bool(&self, i: usize) -> R<bool> {
        Ok(self.i64(i)? != 0)
    }

    pub fn text(&self, i: usize) -> R<String> {
        match self.at(i)? {
            Value::Text(v) => Ok(v.clone()),
            _ => Err(self.mismatch(i, "text")),
        }
    }

    pub fn opt_text(&self, i: usize) -> R<Option<String>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub fn blob(&self, i: usize) -> R<Vec<u8>> {
        match self.at(i)? {
            Value::Blob(v) => Ok(v.clone()),
            _ => Err(self.mismatch(i, "bytes")),
        }
    }

    pub fn opt_blob(&self, i: usize) -> R<Option<Vec<u8>>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.blob(i).map(Some),
        }
    }

    pub fn uuid(&self, i: usize) -> R<uuid::Uuid> {
        uuid::Uuid::parse_str(&self.text(i)?).map_err(|_| self.mismatch(i, "a UUID"))
    }

    pub fn opt_uuid(&self, i: usize) -> R<Option<uuid::Uuid>> {
        match self.at(i)? {
            Value::Null => Ok(None),
            _ => self.uuid(i).map(Some),
        }
    }
}

/// What a database says when a statement fails, in the terms the policy cares about.
#[derive(Debug)]
pub enum DbError {
    /// A unique or primary key constraint refused a row.
    Duplicate,
    /// The transaction lost a race (deadlock, serialization) and may simply run again.
    Retry,
    /// The database cannot be reached or is too busy; nothing was committed.
    Unavailable(String),
    Other(String),
}

/// What the policy's inner functions fail with: a database error or a filesystem error.
#[derive(Debug)]
pub enum Fail {
    Db(DbError),
    Fs(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Fs(e)
    }
}

impl From<Fail> for Error {
    fn from(f: Fail) -> Self {
        match f {
            Fail::Fs(e) => e,
            Fail::Db(DbError::Unavailable(why)) => {
                Error::new(ErrorKind::Unavailable, format!("metadata database unavailable: {why}"))
            }
            Fail::Db(DbError::Retry) => Error::new(ErrorKind::Unavailable, "metadata database is busy; retry"),
            Fail::Db(DbError::Duplicate) => Error::new(ErrorKind::AlreadyExists, "already exists"),
            Fail::Db(DbError::Other(e)) => Error::internal(format!("metadata database: {e}")),
        }
    }
}

pub type R<T> = std::result::Result<T, Fail>;

/// The SQL dialect a statement is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// One open transaction of an engine: the whole of what the policy needs from a database.
pub trait Tx {
    /// Runs a statement (`$1`, `$2`... parameters) and returns every row it yields.
    fn query(&self, sql: &str, params: &[Value]) -> R<Vec<Row>>;
    /// Runs a statement and returns how many rows it changed.
    fn exec(&self, sql: &str, params: &[Value]) -> R<u64>;
    fn dialect(&self) -> Dialect;
    /// Whether this transaction only reads: all it sees is committed, and stays so.
    fn read_only(&self) -> bool;
}

impl dyn Tx + '_ {
    /// The first row, if any.
    pub fn query_opt(&self, sql: &str, params: &[Value]) -> R<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Exactly one row; an internal error if there is none.
    pub fn query_one(&self, sql: &str, params: &[Value]) -> R<Row> {
        self.query_opt(sql, params)?
            .ok_or_else(|| Fail::Db(DbError::Other(format!("no row from {sql}"))))
    }

    /// ` FOR UPDATE` where the engine has row locks (PostgreSQL); SQLite's single writer
    /// already excludes every other writer.
    pub fn for_update(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }
}

impl dyn Tx + '_ {
    /// Makes writers that count an organization's volumes go one at a time (PostgreSQL; on
    /// SQLite the single writer already does).
    pub fn lock_org(&self, org: &str) -> R<()> {
        if self.dialect() == Dialect::Postgres {
            self.exec("SELECT pg_advisory_xact_lock(hashtext($1))", vals![org])?;
        }
        Ok(())
    }
}

/// How a transaction must be isolated from the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Each statement sees what is committed when it starts; writers lock the rows they
    /// change (the volume row first), so writers of one volume run one after another.
    Statement,
    /// The whole transaction sees one snapshot (garbage collection walks every layer).
    Snapshot,
}

/// A database that runs transactions: what an engine implements.
pub trait Engine: Send + Sync + 'static {
    /// Runs `f` in a read-only transaction that sees one state.
    fn read<T>(&self, f: &mut dyn FnMut(&dyn Tx) -> R<T>) -> R<T>;
    /// Runs `f` in a write transaction: committed if it returns `Ok`, rolled back otherwise.
    /// `f` may run more than once when the engine must retry a lost race.
    fn write<T>(&self, isolation: Isolation, f: &mut dyn FnMut(&dyn Tx) -> R<T>) -> R<T>;
    /// Makes every committed transaction survive power loss.
    fn sync(&self) -> R<()>;
}
