//! The PostgreSQL engine: metadata shared by several servers.
//!
//! Each server keeps a small pool of connections. Transactions run at READ COMMITTED: a
//! writer of a volume's tree first locks that volume's row, so writers of one volume run one
//! after another (as SQLite's single writer does for all), while other volumes proceed side by
//! side. Garbage collection asks for one snapshot (REPEATABLE READ). A transaction that loses
//! a race (deadlock, serialization failure) runs again; so does one whose pooled connection
//! turns out dead before it committed (the database restarted), on a new connection.
//! Commits are durable when they return (PostgreSQL's `synchronous_commit`), so `sync` has
//! nothing left to do.

use super::postgres_schema;
use crate::sql::{DbError, Dialect, Engine, Fail, Isolation, R, Row, SqlMeta, Tx, Value};
use crate::{Error, Result};
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, IsolationLevel, NoTls, Statement};
use std::cell::RefCell;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// The metadata engine on a PostgreSQL database.
pub type PostgresMeta = SqlMeta<PostgresEngine>;

/// Most connections one server opens.
const MAX_CONNECTIONS: usize = 16;
/// How long a request waits for a free connection.
const CHECKOUT_WAIT: Duration = Duration::from_secs(10);
/// Prepared statements kept per connection.
const MAX_STATEMENTS: usize = 512;
/// How often a transaction that lost a race runs again before giving up.
const MAX_ATTEMPTS: u32 = 30;

struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

pub struct PostgresEngine {
    config: postgres::Config,
    idle: Mutex<Pool>,
    freed: Condvar,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

impl SqlMeta<PostgresEngine> {
    /// Connects to the database at `url` and brings its schema up to date.
    pub fn connect(url: &str) -> Result<Self> {
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| Error::invalid("meta", format!("invalid PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let options = format!(
            "{} -c statement_timeout=300000 -c idle_in_transaction_session_timeout=60000",
            config.get_options().unwrap_or_default()
        );
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            // No statement holds a server forever; an abandoned transaction frees its locks.
            .options(&options);
        let engine = PostgresEngine {
            config,
            idle: Mutex::default(),
            freed: Condvar::new(),
        };
        engine.migrate()?;
        Ok(SqlMeta::with_engine(engine))
    }
}

fn db_error(e: postgres::Error) -> Fail {
    let code = e.code();
    Fail::Db(if code == Some(&SqlState::UNIQUE_VIOLATION) {
        DbError::Duplicate
    } else if code == Some(&SqlState::T_R_SERIALIZATION_FAILURE) || code == Some(&SqlState::T_R_DEADLOCK_DETECTED) {
        DbError::Retry
    } else if let Some(db) = e.as_db_error() {
        let class = db.code().code().get(..2).unwrap_or("");
        // 08: connection exceptions, 57: operator intervention (shutdown, restart), 53: resources.
        if matches!(class, "08" | "57" | "53") {
            DbError::Unavailable(db.message().to_owned())
        } else {
            DbError::Other(format!("{}: {}", db.code().code(), db.message()))
        }
    } else if e.is_closed() || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()) {
        DbError::Unavailable(e.to_string())
    } else {
        DbError::Other(e.to_string())
    })
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::BOOL => (*v != 0).to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Text(v) => v.as_str().to_sql(ty, out),
            Value::Blob(v) => v.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn value_at(row: &postgres::Row, i: usize) -> std::result::Result<Value, postgres::Error> {
    let ty = row.columns()[i].type_();
    Ok(match *ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map_or(Value::Null, Value::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map_or(Value::Null, |v| Value::Int(v.into())),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map_or(Value::Null, Value::Blob),
        _ => row.try_get::<_, Option<String>>(i)?.map_or(Value::Null, Value::Text),
    })
}

struct PgTx<'c> {
    tx: RefCell<postgres::Transaction<'c>>,
    read_only: bool,
    statements: RefCell<&'c mut HashMap<String, Statement>>,
}

impl PgTx<'_> {
    fn statement(&self, sql: &str) -> R<Statement> {
        if let Some(stmt) = self.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.tx.borrow_mut().prepare(sql).map_err(db_error)?;
        let mut statements = self.statements.borrow_mut();
        // Statements name a volume's layers in their text: a connection that has served many
        // chains starts afresh rather than keep them all (dropped statements are closed).
        if statements.len() >= MAX_STATEMENTS {
            statements.clear();
        }
        statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

impl Tx for PgTx<'_> {
    fn query(&self, sql: &str, values: &[Value]) -> R<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let rows = self.tx.borrow_mut().query(&stmt, &params(values)).map_err(db_error)?;
        rows.iter()
            .map(|row| {
                let values = (0..row.len())
                    .map(|i| value_at(row, i))
                    .collect::<std::result::Result<_, _>>();
                Ok(Row(values.map_err(db_error)?))
            })
            .collect()
    }

    fn exec(&self, sql: &str, values: &[Value]) -> R<u64> {
        let stmt = self.statement(sql)?;
        self.tx.borrow_mut().execute(&stmt, &params(values)).map_err(db_error)
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn read_only(&self) -> bool {
        self.read_only
    }
}

/// How a transaction ended, for the retry loop.
enum Outcome<T> {
    Done(R<T>),
    /// Failed before its commit was sent: nothing happened, it may run again.
    NotCommitted(Fail),
}

impl PostgresEngine {
    fn checkout(&self) -> R<Conn> {
        let deadline = std::time::Instant::now() + CHECKOUT_WAIT;
        let mut pool = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(conn) = pool.idle.pop() {
                if !conn.client.is_closed() {
                    return Ok(conn);
                }
                pool.open -= 1;
                continue;
            }
            if pool.open < MAX_CONNECTIONS {
                pool.open += 1;
                drop(pool);
                return match self.config.connect(NoTls) {
                    Ok(client) => Ok(Conn {
                        client,
                        statements: HashMap::new(),
                    }),
                    Err(e) => {
                        self.release(None);
                        Err(Fail::Db(DbError::Unavailable(format!(
                            "cannot connect to PostgreSQL: {e}"
                        ))))
                    }
                };
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Err(Fail::Db(DbError::Unavailable(
                    "every PostgreSQL connection is busy".into(),
                )));
            }
            pool = self.freed.wait_timeout(pool, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    /// Returns a connection to the pool, or forgets it (`None`, or a dead one).
    fn release(&self, conn: Option<Conn>) {
        let mut pool = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        match conn {
            Some(conn) if !conn.client.is_closed() => pool.idle.push(conn),
            _ => pool.open -= 1,
        }
        self.freed.notify_one();
    }

    fn forget_idle(&self) {
        let mut pool = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        pool.open -= pool.idle.len();
        pool.idle.clear();
        self.freed.notify_all();
    }

    fn run<T>(
        conn: &mut Conn,
        level: IsolationLevel,
        read_only: bool,
        f: &mut dyn FnMut(&dyn Tx) -> R<T>,
    ) -> Outcome<T> {
        let tx = conn
            .client
            .build_transaction()
            .isolation_level(level)
            .read_only(read_only)
            .start();
        let tx = match tx {
            Ok(tx) => tx,
            Err(e) => return Outcome::NotCommitted(db_error(e)),
        };
        let pg = PgTx {
            tx: RefCell::new(tx),
            read_only,
            statements: RefCell::new(&mut conn.statements),
        };
        let out = match f(&pg) {
            Ok(out) => out,
            // Dropping the transaction rolls it back.
            Err(e) => return Outcome::NotCommitted(e),
        };
        Outcome::Done(pg.tx.into_inner().commit().map_err(db_error).map(|()| out))
    }

    /// Runs a transaction, again after a lost race or on a fresh connection after a dead one.
    fn transact<T>(&self, level: IsolationLevel, read_only: bool, f: &mut dyn FnMut(&dyn Tx) -> R<T>) -> R<T> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut conn = self.checkout()?;
            let outcome = Self::run(&mut conn, level, read_only, f);
            let dead = conn.client.is_closed();
            self.release(Some(conn));
            if dead {
                // The database went away: its other pooled connections are dead too.
                self.forget_idle();
            }
            match outcome {
                Outcome::Done(result) => return result,
                Outcome::NotCommitted(Fail::Db(DbError::Retry)) if attempt < MAX_ATTEMPTS => {
                    // Back off a little more each time, so racing writers spread out.
                    std::thread::sleep(Duration::from_millis(u64::from(attempt) * 2 + fastrand_ms()));
                }
                Outcome::NotCommitted(Fail::Db(DbError::Unavailable(_))) if dead && attempt < 3 => {}
                Outcome::NotCommitted(e) => return Err(e),
            }
        }
    }

    fn migrate(&self) -> Result<()> {
        let mut conn = self.checkout()?;
        let result = (|| -> R<()> {
            let mut tx = conn.client.transaction().map_err(db_error)?;
            // Servers starting together migrate one at a time.
            tx.execute("SELECT pg_advisory_xact_lock(7369724)", &[])
                .map_err(db_error)?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS strata_schema (version BIGINT NOT NULL)")
                .map_err(db_error)?;
            let found: i64 = tx
                .query_opt("SELECT version FROM strata_schema", &[])
                .map_err(db_error)?
                .map_or(0, |r| r.get(0));
            super::check_version(found, postgres_schema::COUNT, "PostgreSQL")?;
            for (i, step) in postgres_schema::STEPS.iter().enumerate().skip(found as usize) {
                tx.batch_execute(step).map_err(db_error)?;
                let version = i as i64 + 1;
                tx.execute("DELETE FROM strata_schema", &[]).map_err(db_error)?;
                tx.execute("INSERT INTO strata_schema (version) VALUES ($1)", &[&version])
                    .map_err(db_error)?;
            }
            tx.commit().map_err(db_error)
        })();
        self.release(Some(conn));
        Ok(result?)
    }
}

/// A few milliseconds of jitter, from the clock's low bits.
fn fastrand_ms() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    u64::from(nanos % 5)
}

impl Engine for PostgresEngine {
    fn read<T>(&self, f: &mut dyn FnMut(&dyn Tx) -> R<T>) -> R<T> {
        self.transact(IsolationLevel::RepeatableRead, true, f)
    }

    fn write<T>(&self, isolation: Isolation, f: &mut dyn FnMut(&dyn Tx) -> R<T>) -> R<T> {
        let level = match isolation {
            Isolation::Statement => IsolationLevel::ReadCommitted,
            Isolation::Snapshot => IsolationLevel::RepeatableRead,
        };
        self.transact(level, false, f)
    }

    fn sync(&self) -> R<()> {
        Ok(())
    }
}
