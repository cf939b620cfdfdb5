//! The layered view of one volume inside a transaction.
//!
//! [`Tree`] answers "what does this volume hold" by walking the layer chain from the head,
//! and writes every change to the head, with whiteouts where a lower layer must be hidden.

use super::history::Window;
use super::layer_filter::{Filters, LayerFilter};
use super::{DbError, Fail, R, Row, Tx, Value, vals};
use crate::{Chunk, ChunkData, Error, ErrorKind, now_ns};
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use strata_core::api::{FileKind, Stat};
use uuid::Uuid;

/// What trees keep between transactions, each entry keyed so that it never goes stale,
/// whichever server changed the volume:
/// - layer chains by `(head, parent of head)`: frozen layers never change their parent; only
///   a head's parent changes (flattening), and that is part of the key;
/// - for a subpath session's root, the directories known to lie below it, by the volume's
///   head and its count of directory moves: only a move takes a directory out of a subtree,
///   and every move counts, so `within` walks up only as far as a directory it knew;
/// - the keys each frozen layer holds, by layer (see `layer_filter.rs`).
#[derive(Default)]
pub struct Caches {
    chains: Mutex<HashMap<ChainKey, Chain>>,
    filters: Filters,
    within: Mutex<HashMap<(Uuid, u64), Below>>,
    /// Not a cache: the reader of packs the server gave, kept beside them for every tree.
    pub packs: std::sync::OnceLock<Arc<dyn crate::PackReader>>,
    /// Not a cache either: how long volumes keep their past unless they say, and how far
    /// apart its points are (see `history.rs`).
    pub history: Mutex<super::history::Settings>,
}

impl Caches {
    /// Drops every layer chain (after collection deleted layers). Filters stay: layer ids
    /// are never reused, and the filter cache bounds itself.
    pub fn forget_chains(&self) {
        self.chains.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// A session and the ranges of inode numbers granted to it, `(first, count)`.
type Grants = (Uuid, Vec<(u64, u64)>);

/// A head layer and its parent.
type ChainKey = (i64, Option<i64>);

/// The layers from a head down, each with the moment it is read at (`None`: as it is now):
/// a layer reached through a link made at a moment of history (`layers.parent_as_of`) is
/// read as it was then, and so is everything under it.
#[derive(Clone)]
pub(crate) struct Chain {
    pub layers: Arc<[i64]>,
    pub as_of: Arc<[Option<i64>]>,
    /// `layers` as SQL, `(head, parent, ...)`.
    sql: Arc<str>,
    /// What each layer under the head holds.
    filters: Arc<[Arc<LayerFilter>]>,
    /// Whether every filter is the layer's own (else a read-only transaction reads them).
    filtered: bool,
}

/// The directories known to lie below one root, as of one head and count of moves.
struct Below {
    head: i64,
    moves: i64,
    dirs: std::collections::HashSet<u64>,
}

/// Bounds of the `within` cache: roots kept, and directories per root.
const WITHIN_ROOTS: usize = 4096;
const WITHIN_DIRS: usize = 1 << 16;

/// An inode as stored: its attributes, the layer holding them and, for a directory, its parent.
#[derive(Debug, Clone)]
pub(crate) struct Inode {
    pub layer: i64,
    pub stat: Stat,
    pub parent: u64,
    /// When this version was written, and whether it is one a later change replaced
    /// (its chunks and xattrs are then in the `past_` tables under the same `born`).
    pub born: i64,
    pub past: bool,
}

impl Inode {
    /// Whether both are the one live row of one layer: one version of one inode, whose
    /// content need not be read to know it is the same.
    pub fn same_row(&self, other: &Inode) -> bool {
        (self.layer, self.stat.ino, self.born) == (other.layer, other.stat.ino, other.born) && !self.past && !other.past
    }
}

pub(crate) struct Tree<'t> {
    tx: &'t dyn Tx,
    caches: &'t Caches,
    id: Uuid,
    /// How many times a directory of this volume has moved: see [`Caches`].
    pub moves: i64,
    chain: Arc<[i64]>,
    /// The instant each layer of the chain is read at (`None`: as it is now).
    as_of: Arc<[Option<i64>]>,
    /// `(head, parent, ...)` as SQL, built from our own integer ids.
    in_chain: Arc<str>,
    /// What each layer under the head holds, so a lookup asks only those that may answer.
    filters: Arc<[Arc<LayerFilter>]>,
    /// Where rows of inodes and entries are read from: the tables, or for a tree read at a
    /// moment, the rows each layer held then (see [`sources`]).
    inodes: String,
    dentries: String,
    /// How a read of `inodes` says whether a row is past: a column of a moment's source, or 0.
    past: &'static str,
    /// When this transaction writes (every row it writes is born then), and the volume's
    /// window of history (`at` 0: none): a row born before the window began is kept in the
    /// `past_` tables when changed, once.
    pub stamp: i64,
    pub window: Window,
    versioned: RefCell<HashSet<u64>>,
    /// What this transaction changed, for the volume's history: inodes, and bytes written.
    changed: RefCell<HashSet<u64>>,
    written: Cell<i64>,
    pub next_ino: u64,
    pub used_bytes: i64,
    pub file_count: i64,
    /// A snapshot: its tree never changes.
    pub snapshot: bool,
    /// The volume's quota of bytes and of files, and both counts as the transaction found them.
    quota: (Option<i64>, Option<i64>),
    found: (i64, i64),
    /// What this transaction knows of inodes, read or written (`None`: absent or hidden):
    /// every change of an inode row goes through the tree, so it stays true until the end.
    /// A batch of creates in one directory reads the directory once.
    known: RefCell<HashMap<u64, Option<Inode>>>,
    /// Inodes made in this transaction that have no chunks yet.
    made_empty: RefCell<HashSet<u64>>,
    /// Directories whose new times and link count (`known`) are written once, at the end
    /// or before a listing reads rows: a batch of creates in one directory updates its row
    /// once, not once a create (PostgreSQL keeps every version of a row a transaction
    /// updates, and walks them all at each update).
    touched: RefCell<HashSet<u64>>,
    /// The ranges of inode numbers granted to a session, once read: a batch of creates
    /// reads them once (grants only grow, in transactions of their own).
    grants: RefCell<Option<Grants>>,
    /// Blocks this transaction found live (touched), with their sizes, and those a session
    /// may name: a batch naming one pack for a thousand files touches its row once.
    live_blocks: RefCell<HashMap<crate::BlockHash, u64>>,
    usable_blocks: RefCell<HashSet<(Uuid, crate::BlockHash)>>,
}

const INODE_COLUMNS: &str =
    "layer, ino, whiteout, kind, mode, uid, gid, size, nlink, rdev, atime, mtime, ctime, parent, target";
const DENTRY_COLUMNS: &str = "layer, parent, name, ino, born";

/// The row sources of a tree: the tables themselves when every layer is read as it is now;
/// otherwise, per layer read at a moment `t`, its rows born by then and not yet replaced.
fn sources(chain: &[i64], as_of: &[Option<i64>]) -> (String, String) {
    if as_of.iter().all(Option::is_none) {
        return ("inodes".into(), "dentries".into());
    }
    let mut groups: BTreeMap<Option<i64>, Vec<String>> = BTreeMap::new();
    for (layer, at) in chain.iter().zip(as_of) {
        groups.entry(*at).or_default().push(layer.to_string());
    }
    let (mut inodes, mut dentries) = (Vec::new(), Vec::new());
    for (at, layers) in groups {
        let list = layers.join(",");
        match at {
            None => {
                inodes.push(format!(
                    "SELECT {INODE_COLUMNS}, born, 0 AS past FROM inodes WHERE layer IN ({list})"
                ));
                dentries.push(format!("SELECT {DENTRY_COLUMNS} FROM dentries WHERE layer IN ({list})"));
            }
            Some(t) => {
                inodes.push(format!(
                    "SELECT {INODE_COLUMNS}, born, 0 AS past FROM inodes WHERE layer IN ({list}) AND born <= {t}
                     UNION ALL SELECT {INODE_COLUMNS}, born, 1 AS past FROM past_inodes
                     WHERE layer IN ({list}) AND born <= {t} AND died > {t}"
                ));
                dentries.push(format!(
                    "SELECT {DENTRY_COLUMNS} FROM dentries WHERE layer IN ({list}) AND born <= {t}
                     UNION ALL SELECT {DENTRY_COLUMNS} FROM past_dentries WHERE layer IN ({list}) AND born <= {t} AND died > {t}"
                ));
            }
        }
    }
    (
        format!("({})", inodes.join(" UNION ALL ")),
        format!("({})", dentries.join(" UNION ALL ")),
    )
}

impl<'t> Tree<'t> {
    /// The layers of this tree as an SQL list, `(head, parent, ...)`.
    pub fn in_chain(&self) -> &str {
        &self.in_chain
    }

    /// The tree of a volume; `for_write` locks the volume's row until the transaction ends.
    pub fn open(tx: &'t dyn Tx, caches: &'t Caches, id: Uuid, for_write: bool) -> R<Self> {
        const VOLUME: &str = "SELECT v.head, v.next_ino, v.used_bytes, v.file_count, v.snapshot_of IS NOT NULL, v.moves, v.quota_bytes, v.quota_files, v.updated_at, v.history_ns, v.window_at, v.window_last, v.window_changes, v.window_bytes";
        let (row, parent) = if for_write {
            // Lock first, then read the head's parent in a statement of its own: it sees what
            // a writer that held the lock before us (a fork, a flatten) committed.
            let sql = format!("{VOLUME} FROM volumes v WHERE v.id = $1{}", tx.for_update());
            let row = tx.query_opt(&sql, vals![id])?.ok_or_else(volume_gone)?;
            let parent = parent_of(tx, row.i64(0)?)?;
            (row, parent)
        } else {
            let sql = format!("{VOLUME}, l.parent FROM volumes v JOIN layers l ON l.id = v.head WHERE v.id = $1");
            let row = tx.query_opt(&sql, vals![id])?.ok_or_else(volume_gone)?;
            let parent = row.opt_i64(14)?;
            (row, parent)
        };
        let head = row.i64(0)?;
        let (stamp, window) = if for_write {
            let settings = *caches.history.lock().unwrap_or_else(|p| p.into_inner());
            let window = Window {
                at: row.i64(10)?,
                last: row.i64(11)?,
                changes: row.i64(12)?,
                bytes: row.i64(13)?,
            };
            let counts = (row.i64(2)?, row.i64(3)?);
            super::history::open_window(tx, id, &settings, row.i64(8)?, window, row.opt_i64(9)?, counts)?
        } else {
            (0, Window::default())
        };
        let mut tree = Self::assemble(tx, caches, id, head, parent)?;
        tree.moves = row.i64(5)?;
        tree.stamp = stamp;
        tree.window = window;
        tree.next_ino = row.u64(1)?;
        (tree.used_bytes, tree.file_count) = (row.i64(2)?, row.i64(3)?);
        tree.found = (tree.used_bytes, tree.file_count);
        tree.snapshot = row.bool(4)?;
        tree.quota = (row.opt_i64(6)?, row.opt_i64(7)?);
        Ok(tree)
    }

    /// The tree a layer holds, read-only (a fork's merge base).
    pub fn of_layer(tx: &'t dyn Tx, caches: &'t Caches, layer: i64) -> R<Self> {
        let parent = parent_of(tx, layer)?;
        Self::assemble(tx, caches, Uuid::nil(), layer, parent)
    }

    fn assemble(tx: &'t dyn Tx, caches: &'t Caches, id: Uuid, head: i64, parent: Option<i64>) -> R<Self> {
        let Chain {
            layers: chain,
            as_of,
            sql: in_chain,
            filters,
            ..
        } = chain_of(tx, caches, head, parent)?;
        let (inodes, dentries) = sources(&chain, &as_of);
        let past = if as_of.iter().all(Option::is_none) { "0" } else { "past" };
        Ok(Tree {
            tx,
            caches,
            id,
            moves: 0,
            chain,
            as_of,
            in_chain,
            filters,
            inodes,
            dentries,
            past,
            stamp: 0,
            window: Window::default(),
            versioned: RefCell::default(),
            changed: RefCell::default(),
            written: Cell::new(0),
            next_ino: 0,
            used_bytes: 0,
            file_count: 0,
            snapshot: true,
            quota: (None, None),
            found: (0, 0),
            known: RefCell::default(),
            made_empty: RefCell::default(),
            touched: RefCell::default(),
            grants: RefCell::default(),
            live_blocks: RefCell::default(),
            usable_blocks: RefCell::default(),
        })
    }

    pub fn head(&self) -> i64 {
        self.chain[0]
    }

    /// The layers from `from` down that may hold a row `holds` asks for: the head (if `from`
    /// is 0), and each layer under it whose filter allows the row.
    fn layers_where(&self, from: usize, holds: impl Fn(&LayerFilter) -> bool) -> Vec<i64> {
        let below = self.chain[1..]
            .iter()
            .zip(self.filters.iter())
            .skip(from.saturating_sub(1));
        let head = (from == 0).then(|| self.head());
        head.into_iter()
            .chain(below.filter(|(_, filter)| holds(filter)).map(|(&layer, _)| layer))
            .collect()
    }

    /// [`Tree::layers_where`] as an SQL list: the whole chain's, when every layer may hold it.
    fn list_where(&self, holds: impl Fn(&LayerFilter) -> bool) -> Cow<'_, str> {
        let layers = self.layers_where(0, holds);
        if layers.len() == self.chain.len() {
            Cow::Borrowed(&self.in_chain)
        } else {
            Cow::Owned(sql_list(&layers))
        }
    }

    /// How many layers a lookup walks.
    pub fn depth(&self) -> usize {
        self.chain.len()
    }

    fn depth_of(&self, layer: i64) -> usize {
        self.chain.iter().position(|&l| l == layer).unwrap_or(usize::MAX)
    }

    /// Whether a file (anything but a directory) with more than one name may be in the tree:
    /// a row of any layer says so, also one a layer above has since replaced (a cautious
    /// answer, from one scan).
    pub fn may_hold_links(&self) -> R<bool> {
        self.write_touched()?;
        let sql = format!(
            "SELECT ino FROM {} AS inodes WHERE layer IN {} AND kind <> {} AND nlink > 1 AND whiteout = 0 LIMIT 1",
            self.inodes,
            self.in_chain,
            kind_code(FileKind::Directory)
        );
        Ok(self.tx.query_opt(&sql, vals![])?.is_some())
    }

    /// The live inode, or `None` if absent or hidden by a whiteout.
    pub fn inode(&self, ino: u64) -> R<Option<Inode>> {
        if let Some(known) = self.known.borrow().get(&ino) {
            return Ok(known.clone());
        }
        let found = self.stored_inode(ino)?;
        self.known.borrow_mut().insert(ino, found.clone());
        Ok(found)
    }

    /// [`Tree::inode`] read from the database, not remembered (for a walk of every inode).
    pub fn stored_inode(&self, ino: u64) -> R<Option<Inode>> {
        let layers = self.layers_where(0, |f| f.may_hold_inode(ino));
        let select = format!("{INODE_COLUMNS}, born, {}", self.past);
        let sql = seek_each(&select, &self.inodes, "ino = $1", &layers);
        let mut best: Option<(usize, bool, Inode)> = None;
        for row in self.tx.query(&sql, vals![ino])? {
            let (whiteout, inode) = inode_from_row(&row)?;
            let depth = self.depth_of(inode.layer);
            if best.as_ref().is_none_or(|(d, _, _)| depth < *d) {
                best = Some((depth, whiteout, inode));
            }
        }
        Ok(best.and_then(|(_, whiteout, inode)| (!whiteout).then_some(inode)))
    }

    pub fn need_inode(&self, ino: u64) -> R<Inode> {
        self.inode(ino)?
            .ok_or_else(|| Fail::Fs(Error::not_found(format!("inode {ino} not found"))))
    }

    /// A directory's inode; `NotADirectory` if it is something else.
    pub fn need_dir(&self, ino: u64) -> R<Inode> {
        let inode = self.need_inode(ino)?;
        if inode.stat.kind != FileKind::Directory {
            return Err(Error::new(ErrorKind::NotADirectory, "not a directory").into());
        }
        Ok(inode)
    }

    /// The inode an entry names, looking through the layers from `from` down.
    fn dentry_in(&self, from: usize, parent: u64, name: &[u8]) -> R<Option<u64>> {
        let layers = self.layers_where(from, |f| f.may_hold_entries_of(parent));
        if layers.is_empty() {
            return Ok(None);
        }
        let sql = seek_each("layer, ino", &self.dentries, "parent = $1 AND name = $2", &layers);
        let mut best: Option<(usize, u64)> = None;
        for row in self.tx.query(&sql, vals![parent, name])? {
            let (layer, ino) = (row.i64(0)?, row.u64(1)?);
            let depth = self.depth_of(layer);
            if best.is_none_or(|(d, _)| depth < d) {
                best = Some((depth, ino));
            }
        }
        Ok(best.map(|(_, ino)| ino).filter(|&ino| ino != 0))
    }

    pub fn dentry(&self, parent: u64, name: &[u8]) -> R<Option<u64>> {
        self.dentry_in(0, parent, name)
    }

    /// All live entries of a directory, sorted by name.
    pub fn entries(&self, parent: u64) -> R<Vec<(Vec<u8>, u64)>> {
        let sql = format!(
            "SELECT layer, name, ino FROM {} AS dentries WHERE parent = $1 AND layer IN {}",
            self.dentries,
            self.list_where(|f| f.may_hold_entries_of(parent))
        );
        let mut merged: BTreeMap<Vec<u8>, (usize, u64)> = BTreeMap::new();
        for row in self.tx.query(&sql, vals![parent])? {
            let (layer, name, ino) = (row.i64(0)?, row.blob(1)?, row.u64(2)?);
            let depth = self.depth_of(layer);
            let slot = merged.entry(name).or_insert((depth, ino));
            if depth < slot.0 {
                *slot = (depth, ino);
            }
        }
        Ok(merged
            .into_iter()
            .filter(|(_, (_, ino))| *ino != 0)
            .map(|(name, (_, ino))| (name, ino))
            .collect())
    }

    /// All live entries of a directory with their inodes, sorted by name, in one query.
    pub fn entries_with_inodes(&self, parent: u64) -> R<Vec<(Vec<u8>, Inode)>> {
        self.entries_with_inodes_between(parent, None, None)
    }

    /// The name that ends a page of `limit` names after `after` (every layer's names count,
    /// whiteouts too), or `None` when fewer than `limit` follow: the page is the rest.
    pub fn page_end(&self, parent: u64, after: Option<&[u8]>, limit: usize) -> R<Option<Vec<u8>>> {
        let sql = format!(
            "SELECT DISTINCT name FROM {} AS dentries WHERE parent = $1 AND layer IN {} AND name > $2
             ORDER BY name LIMIT $3",
            self.dentries,
            self.list_where(|f| f.may_hold_entries_of(parent))
        );
        let rows = self
            .tx
            .query(&sql, vals![parent, after.unwrap_or_default(), limit as i64])?;
        match rows.last() {
            Some(last) if rows.len() == limit => Ok(Some(last.blob(0)?)),
            _ => Ok(None),
        }
    }

    /// Which of these inodes (number and the layer of their row) have extended attributes.
    pub fn with_xattrs(&self, inodes: &[(u64, i64)]) -> R<std::collections::HashSet<u64>> {
        if inodes.is_empty() {
            return Ok(Default::default());
        }
        let list: Vec<String> = inodes.iter().map(|(ino, _)| ino.to_string()).collect();
        let mut layers: Vec<i64> = inodes.iter().map(|&(_, layer)| layer).collect();
        layers.sort_unstable();
        layers.dedup();
        let mut sql = format!(
            "SELECT DISTINCT ino, layer FROM xattrs WHERE layer IN {} AND ino IN ({})",
            sql_list(&layers),
            list.join(", ")
        );
        if self.past != "0" {
            // A moment's past versions: a cautious answer (any version's xattrs count).
            sql = format!("{sql} UNION {}", sql.replacen("FROM xattrs", "FROM past_xattrs", 1));
        }
        let found: std::collections::HashSet<(u64, i64)> = self
            .tx
            .query(&sql, vals![])?
            .iter()
            .map(|row| Ok((row.u64(0)?, row.i64(1)?)))
            .collect::<R<_>>()?;
        Ok(inodes
            .iter()
            .filter(|i| found.contains(i))
            .map(|(ino, _)| *ino)
            .collect())
    }

    /// The live entries whose names come after `after` and up to `upto` (inclusive), with
    /// their inodes, sorted by name, in one query.
    pub fn entries_with_inodes_between(
        &self,
        parent: u64,
        after: Option<&[u8]>,
        upto: Option<&[u8]>,
    ) -> R<Vec<(Vec<u8>, Inode)>> {
        self.write_touched()?;
        let mut columns: Vec<String> = INODE_COLUMNS.split(", ").map(|c| format!("i.{c}")).collect();
        columns.push("i.born".into());
        columns.push(if self.past == "0" { "0".into() } else { "i.past".into() });
        let mut params = vec![Value::from(parent), Value::from(after.unwrap_or_default())];
        // Inodes are joined from the layers that may hold the directory's entries or that
        // are asked for every inode; one that another layer's filter names is read on its own,
        // through every layer (a few files changed in a fork, say).
        let joined = |f: &LayerFilter| f.holds_any_inode() || f.may_hold_entries_of(parent);
        let mut sql = format!(
            "SELECT d.layer, d.name, d.ino, {} FROM {} d LEFT JOIN {} i ON i.ino = d.ino AND i.layer IN {}
             WHERE d.parent = $1 AND d.layer IN {} AND d.name > $2",
            columns.join(", "),
            self.dentries,
            self.inodes,
            self.list_where(joined),
            self.list_where(|f| f.may_hold_entries_of(parent)),
        );
        if let Some(upto) = upto {
            sql.push_str(" AND d.name <= $3");
            params.push(Value::from(upto));
        }
        // The topmost entry per name, and the topmost row per inode (one row per pair).
        let mut names: BTreeMap<Vec<u8>, (usize, u64)> = BTreeMap::new();
        let mut inodes: HashMap<u64, (usize, bool, Inode)> = HashMap::new();
        for row in self.tx.query(&sql, &params)? {
            let (depth, name, ino) = (self.depth_of(row.i64(0)?), row.blob(1)?, row.u64(2)?);
            let slot = names.entry(name).or_insert((depth, ino));
            if depth < slot.0 {
                *slot = (depth, ino);
            }
            let inode_row = Row(row.0[3..].to_vec());
            if inode_row.opt_i64(0)?.is_some() {
                let (whiteout, inode) = inode_from_row(&inode_row)?;
                let at = self.depth_of(inode.layer);
                if inodes.get(&ino).is_none_or(|(d, _, _)| at < *d) {
                    inodes.insert(ino, (at, whiteout, inode));
                }
            }
        }
        let others: Vec<&LayerFilter> = self.filters.iter().map(|f| &**f).filter(|f| !joined(f)).collect();
        let filtered = LayerFilter::any_may_hold_inode(&others);
        names
            .into_iter()
            .filter(|(_, (_, ino))| *ino != 0)
            .map(|(name, (_, ino))| {
                let inode = match inodes.get(&ino) {
                    _ if filtered(ino) => self.inode(ino)?,
                    Some((_, false, inode)) => Some(inode.clone()),
                    _ => None,
                };
                inode
                    .map(|inode| (name, inode))
                    .ok_or_else(|| Fail::Fs(Error::not_found(format!("inode {ino} not found"))))
            })
            .collect()
    }

    /// The directories that hold a live entry naming `ino` (several for a hard-linked file).
    pub fn parents_of(&self, ino: u64) -> R<Vec<u64>> {
        let mut parents: Vec<u64> = self.names_of(ino)?.into_iter().map(|(parent, _)| parent).collect();
        parents.dedup();
        Ok(parents)
    }

    /// The live entries naming `ino`: each directory and name.
    pub fn names_of(&self, ino: u64) -> R<Vec<(u64, Vec<u8>)>> {
        let sql = format!(
            "SELECT parent, name FROM {} AS dentries WHERE ino = $1 AND layer IN {} ORDER BY parent, name",
            self.dentries, self.in_chain
        );
        let mut names: Vec<(u64, Vec<u8>)> = Vec::new();
        for row in self.tx.query(&sql, vals![ino])? {
            let (parent, name) = (row.u64(0)?, row.blob(1)?);
            // A lower layer's entry counts only if no upper layer renamed or removed it.
            if !names.iter().any(|(p, n)| *p == parent && *n == name) && self.dentry(parent, &name)? == Some(ino) {
                names.push((parent, name));
            }
        }
        Ok(names)
    }

    /// The layers of the chain, each with the instant it is read at (`None`: now).
    pub fn layers(&self) -> (&[i64], &[Option<i64>]) {
        (&self.chain, &self.as_of)
    }

    pub fn set_dentry(&self, parent: u64, name: &[u8], ino: u64) -> R<()> {
        self.keep_dentry(parent, name)?;
        self.tx.exec(
            "INSERT INTO dentries (layer, parent, name, ino, born) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (parent, name, layer) DO UPDATE SET ino = excluded.ino, born = excluded.born",
            vals![self.head(), parent, name, ino, self.stamp],
        )?;
        self.changed.borrow_mut().insert(ino);
        Ok(())
    }

    /// Keeps the head's entry `name` in the past before it changes, if it was written before
    /// the volume's window of history began.
    fn keep_dentry(&self, parent: u64, name: &[u8]) -> R<()> {
        if self.window.at == 0 {
            return Ok(());
        }
        self.tx.exec(
            "INSERT INTO past_dentries (layer, parent, name, ino, born, died)
             SELECT layer, parent, name, ino, born, $4 FROM dentries
             WHERE layer = $1 AND parent = $2 AND name = $3 AND born < $5 ON CONFLICT DO NOTHING",
            vals![self.head(), parent, name, self.stamp, self.window.at],
        )?;
        Ok(())
    }

    /// Keeps the head's version of an inode (attributes, chunks, xattrs) in the past before it
    /// changes, if it was written before the volume's window of history began; the head's row
    /// is then born now, so that what changes in it later in this window stays with it.
    pub fn version(&self, ino: u64) -> R<()> {
        if self.window.at == 0 || !self.versioned.borrow_mut().insert(ino) {
            return Ok(());
        }
        let (head, stamp) = (self.head(), self.stamp);
        // Most writes change a file this window has already changed: its row says so.
        if let Some(Some(known)) = self.known.borrow().get(&ino)
            && known.layer == head
            && !known.past
            && known.born >= self.window.at
        {
            return Ok(());
        }
        let kept = self.tx.exec(
            &format!(
                "INSERT INTO past_inodes ({INODE_COLUMNS}, born, died) SELECT {INODE_COLUMNS}, born, $3 FROM inodes
                 WHERE layer = $1 AND ino = $2 AND born < $4 ON CONFLICT DO NOTHING"
            ),
            vals![head, ino, stamp, self.window.at],
        )?;
        if kept == 0 {
            return Ok(());
        }
        for (table, columns) in [("chunks", "idx, len, hash, data, pack_off"), ("xattrs", "name, value")] {
            let select: Vec<String> = columns.split(", ").map(|c| format!("x.{c}")).collect();
            self.tx.exec(
                &format!(
                    "INSERT INTO past_{table} (layer, ino, born, {columns})
                     SELECT x.layer, x.ino, i.born, {} FROM {table} x JOIN inodes i ON i.layer = x.layer AND i.ino = x.ino
                     WHERE x.layer = $1 AND x.ino = $2 ON CONFLICT DO NOTHING",
                    select.join(", ")
                ),
                vals![head, ino],
            )?;
        }
        self.tx.exec(
            "UPDATE inodes SET born = $3 WHERE layer = $1 AND ino = $2",
            vals![head, ino, stamp],
        )?;
        Ok(())
    }

    /// Removes an entry from the view: a whiteout if a lower layer still holds it.
    pub fn remove_dentry(&self, parent: u64, name: &[u8]) -> R<()> {
        if self.dentry_in(1, parent, name)?.is_some() {
            self.set_dentry(parent, name, 0)
        } else {
            self.keep_dentry(parent, name)?;
            self.tx.exec(
                "DELETE FROM dentries WHERE layer = $1 AND parent = $2 AND name = $3",
                vals![self.head(), parent, name],
            )?;
            Ok(())
        }
    }

    /// Writes an inode to the head, first copying its chunks and xattrs up from a lower layer.
    /// Changes the volume's count of bytes by `delta`, exactly: a count past what it can
    /// hold is refused (`TooLarge`, EFBIG on a mount), never rounded, so that it stays true
    /// after the change is undone. (Below zero only a count already wrong can go: `fsck
    /// --repair` recounts it.)
    pub fn add_used(&mut self, delta: i128) -> R<()> {
        let next = (self.used_bytes as i128 + delta).max(0);
        if next > i64::MAX as i128 {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!("the volume's files would hold {next} bytes, more than it can count"),
            )
            .with_field("size")
            .into());
        }
        self.used_bytes = next as i64;
        Ok(())
    }

    pub fn put_inode(&self, inode: &mut Inode) -> R<()> {
        let head = self.head();
        if inode.stat.kind != FileKind::Directory {
            self.changed.borrow_mut().insert(inode.stat.ino);
        }
        if inode.layer == head {
            self.version(inode.stat.ino)?;
        } else {
            let ino = inode.stat.ino;
            // The version this tree reads: a past one (of a moment) has its own chunks and
            // xattrs, under its `born` (our own integer).
            let (past, version) = match inode.past {
                true => ("past_", format!(" AND born = {}", inode.born)),
                false => ("", String::new()),
            };
            self.tx.exec(
                &format!(
                    "INSERT INTO chunks (layer, ino, idx, len, hash, data, pack_off)
                     SELECT CAST($1 AS BIGINT), ino, idx, len, hash, data, pack_off FROM {past}chunks
                     WHERE layer = $2 AND ino = $3{version}
                     ON CONFLICT (layer, ino, idx) DO UPDATE SET len = excluded.len, hash = excluded.hash,
                     data = excluded.data, pack_off = excluded.pack_off"
                ),
                vals![head, inode.layer, ino],
            )?;
            self.tx.exec(
                &format!(
                    "INSERT INTO xattrs (layer, ino, name, value)
                     SELECT CAST($1 AS BIGINT), ino, name, value FROM {past}xattrs WHERE layer = $2 AND ino = $3{version}
                     ON CONFLICT (layer, ino, name) DO UPDATE SET value = excluded.value"
                ),
                vals![head, inode.layer, ino],
            )?;
            inode.layer = head;
        }
        let s = &inode.stat;
        self.tx.exec(
            &format!(
                "INSERT INTO inodes ({INODE_COLUMNS}, born) VALUES ($1, $2, 0, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (ino, layer) DO UPDATE SET whiteout = 0, kind = excluded.kind, mode = excluded.mode,
                 uid = excluded.uid, gid = excluded.gid, size = excluded.size, nlink = excluded.nlink,
                 rdev = excluded.rdev, atime = excluded.atime, mtime = excluded.mtime, ctime = excluded.ctime,
                 parent = excluded.parent, target = excluded.target, born = excluded.born"
            ),
            vals![
                head,
                s.ino,
                kind_code(s.kind),
                s.mode,
                s.uid,
                s.gid,
                s.size,
                s.nlink,
                s.rdev,
                s.atime,
                s.mtime,
                s.ctime,
                inode.parent,
                s.target.clone(),
                self.stamp
            ],
        )?;
        inode.born = self.stamp;
        inode.past = false;
        self.known.borrow_mut().insert(s.ino, Some(inode.clone()));
        self.touched.borrow_mut().remove(&s.ino);
        Ok(())
    }

    /// A block's size if it is live, touching its registry row (once a transaction): that
    /// both checks it and, on engines with row locks, orders this write against a
    /// collection pass marking it.
    pub fn live_block(&self, hash: &crate::BlockHash) -> R<Option<u64>> {
        if let Some(size) = self.live_blocks.borrow().get(hash) {
            return Ok(Some(*size));
        }
        let live = self.tx.query_opt(
            "UPDATE blocks SET touched_at = $2, committed = 1 WHERE hash = $1 AND state = 0 RETURNING size",
            vals![hash, now_ns()],
        )?;
        let Some(row) = live else { return Ok(None) };
        let size = row.i64(0)?.max(0) as u64;
        self.live_blocks.borrow_mut().insert(*hash, size);
        Ok(Some(size))
    }

    /// [`super::blocks::may_use`], asked once a transaction.
    pub fn may_use(&self, session: Uuid, hash: &crate::BlockHash) -> R<bool> {
        if self.usable_blocks.borrow().contains(&(session, *hash)) {
            return Ok(true);
        }
        let usable = super::blocks::may_use(self, session, hash)?;
        if usable {
            self.usable_blocks.borrow_mut().insert((session, *hash));
        }
        Ok(usable)
    }

    /// Whether `ino` is among the inode numbers granted to `session`.
    pub fn granted_to(&self, session: Uuid, ino: u64) -> R<bool> {
        let mut grants = self.grants.borrow_mut();
        if grants.as_ref().is_none_or(|(s, _)| *s != session) {
            let rows = self
                .tx
                .query("SELECT first, count FROM grants WHERE session = $1", vals![session])?;
            let ranges = rows.iter().map(|r| Ok((r.u64(0)?, r.u64(1)?))).collect::<R<Vec<_>>>()?;
            *grants = Some((session, ranges));
        }
        let ranges = grants.as_ref().map(|(_, r)| r.as_slice()).unwrap_or_default();
        Ok(ranges.iter().any(|&(first, count)| first <= ino && ino - first < count))
    }

    /// Keeps a directory's new times and link count, written later (see `touched`).
    pub fn touch_later(&self, dir: Inode) {
        let ino = dir.stat.ino;
        self.known.borrow_mut().insert(ino, Some(dir));
        self.touched.borrow_mut().insert(ino);
    }

    /// Writes the directories touched since the last write.
    fn write_touched(&self) -> R<()> {
        let touched: Vec<u64> = self.touched.borrow_mut().drain().collect();
        for ino in touched {
            let dir = self.known.borrow().get(&ino).cloned().flatten();
            if let Some(mut dir) = dir {
                self.put_inode(&mut dir)?;
            }
        }
        Ok(())
    }

    /// Writes a new inode, which has no chunks yet.
    pub fn put_new_inode(&self, inode: &mut Inode) -> R<()> {
        self.versioned.borrow_mut().insert(inode.stat.ino);
        self.changed.borrow_mut().insert(inode.stat.ino);
        self.put_inode(inode)?;
        self.made_empty.borrow_mut().insert(inode.stat.ino);
        Ok(())
    }

    /// Deletes an inode with its content and xattrs from the view.
    pub fn remove_inode(&mut self, inode: &Inode) -> R<()> {
        let (head, ino) = (self.head(), inode.stat.ino);
        self.version(ino)?;
        self.changed.borrow_mut().insert(ino);
        for sql in [
            "DELETE FROM chunks WHERE layer = $1 AND ino = $2",
            "DELETE FROM xattrs WHERE layer = $1 AND ino = $2",
            "DELETE FROM inodes WHERE layer = $1 AND ino = $2",
        ] {
            self.tx.exec(sql, vals![head, ino])?;
        }
        self.made_empty.borrow_mut().remove(&ino);
        self.touched.borrow_mut().remove(&ino);
        self.known.borrow_mut().insert(ino, None);
        if self.chain.len() > 1 && self.stored_inode(ino)?.is_some() {
            self.tx.exec(
                &format!(
                    "INSERT INTO inodes ({INODE_COLUMNS}, born) VALUES ($1, $2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, $3)"
                ),
                vals![head, ino, self.stamp],
            )?;
        }
        self.add_used(-(inode.stat.size as i128))?;
        self.file_count -= 1;
        Ok(())
    }

    /// Whether two chunks hold the same bytes ([`Chunk::same_bytes`]); for an inline chunk and
    /// a packed one a truncate cut (which has no hash of its bytes), by reading the pack.
    pub fn same_content(&self, a: &Chunk, b: &Chunk) -> R<bool> {
        if a.same_bytes(b) {
            return Ok(true);
        }
        let (packed, pack, inline) = match (&a.data, &b.data) {
            (ChunkData::Packed { pack, sum: None, .. }, ChunkData::Inline(_)) => (a, pack, b),
            (ChunkData::Inline(_), ChunkData::Packed { pack, sum: None, .. }) => (b, pack, a),
            _ => return Ok(false),
        };
        let Some(reader) = self.caches.packs.get() else {
            return Ok(false);
        };
        let org = self
            .tx
            .query_one("SELECT org FROM volumes WHERE id = $1", vals![self.id])?
            .text(0)?;
        let stored = reader.read(&org, pack)?;
        Ok(a.idx == b.idx && a.len == b.len && packed.small_bytes(Some(&stored)) == inline.small_bytes(None))
    }

    pub fn chunks(&self, inode: &Inode) -> R<Vec<Chunk>> {
        if self.made_empty.borrow().contains(&inode.stat.ino) {
            return Ok(Vec::new());
        }
        let rows = if inode.past {
            self.tx.query(
                "SELECT idx, len, hash, data, pack_off FROM past_chunks WHERE layer = $1 AND ino = $2 AND born = $3
                 ORDER BY idx",
                vals![inode.layer, inode.stat.ino, inode.born],
            )?
        } else {
            self.tx.query(
                "SELECT idx, len, hash, data, pack_off FROM chunks WHERE layer = $1 AND ino = $2 ORDER BY idx",
                vals![inode.layer, inode.stat.ino],
            )?
        };
        rows.iter().map(chunk_from_row).collect()
    }

    /// Stores a chunk of an inode already written to the head.
    pub fn put_chunk(&self, ino: u64, chunk: &Chunk) -> R<()> {
        self.version(ino)?;
        self.written.set(self.written.get() + chunk.len as i64);
        self.made_empty.borrow_mut().remove(&ino);
        let (hash, data, pack_off): (Option<&[u8]>, Option<Vec<u8>>, Option<u64>) = match &chunk.data {
            ChunkData::Block(h) => (Some(h), None, None),
            ChunkData::Inline(d) => (None, Some(d.clone()), None),
            ChunkData::Patched(h, patches) => (Some(h), Some(patches.encode()), None),
            ChunkData::Packed { pack, off, sum } => (Some(pack), sum.map(|s| s.to_vec()), Some(*off)),
        };
        self.tx.exec(
            "INSERT INTO chunks (layer, ino, idx, len, hash, data, pack_off) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (layer, ino, idx) DO UPDATE SET len = excluded.len, hash = excluded.hash, data = excluded.data,
             pack_off = excluded.pack_off",
            vals![self.head(), ino, chunk.idx, chunk.len, hash, data.as_deref(), pack_off],
        )?;
        Ok(())
    }

    /// Drops the content of a head inode past `size`.
    pub fn truncate_chunks(&self, ino: u64, size: u64) -> R<()> {
        let bs = strata_core::BLOCK_SIZE;
        let head = self.head();
        self.version(ino)?;
        self.tx.exec(
            "DELETE FROM chunks WHERE layer = $1 AND ino = $2 AND idx >= $3",
            vals![head, ino, size.div_ceil(bs)],
        )?;
        if size.is_multiple_of(bs) {
            return Ok(());
        }
        let (idx, keep) = (size / bs, size % bs);
        let row = self.tx.query_opt(
            "SELECT idx, len, hash, data, pack_off FROM chunks WHERE layer = $1 AND ino = $2 AND idx = $3",
            vals![head, ino, idx],
        )?;
        if let Some(mut chunk) = row.as_ref().map(chunk_from_row).transpose()?
            && chunk.len > keep
        {
            chunk.cut(keep);
            self.put_chunk(ino, &chunk)?;
        }
        Ok(())
    }

    pub fn remove_all_chunks(&self, ino: u64) -> R<()> {
        self.version(ino)?;
        self.tx.exec(
            "DELETE FROM chunks WHERE layer = $1 AND ino = $2",
            vals![self.head(), ino],
        )?;
        Ok(())
    }

    pub fn alloc_ino(&mut self) -> u64 {
        self.next_ino += 1;
        self.next_ino - 1
    }

    /// Fails when this transaction grew a count past the volume's quota or its
    /// organization's (`quotas::check`). Checked once at the end, so the whole change goes
    /// or none of it.
    pub fn check_quota(&self) -> R<()> {
        super::quotas::check(
            self.tx,
            &super::quotas::Growth {
                volume: self.id,
                found: self.found,
                now: (self.used_bytes, self.file_count),
                quota: self.quota,
            },
        )
    }

    /// Saves the volume's counters; every write ends with it.
    pub fn finish(self) -> R<()> {
        self.write_touched()?;
        let mut window = self.window;
        if window.at != 0 {
            window.last = self.stamp;
            window.changes += self.changed.borrow().len() as i64;
            window.bytes += self.written.get();
        }
        self.tx.exec(
            "UPDATE volumes SET next_ino = $2, used_bytes = $3, file_count = $4, updated_at = $5, moves = $6,
             window_at = $7, window_last = $8, window_changes = $9, window_bytes = $10 WHERE id = $1",
            vals![
                self.id,
                self.next_ino,
                self.used_bytes,
                self.file_count,
                self.stamp,
                self.moves,
                window.at,
                window.last,
                window.changes,
                window.bytes
            ],
        )?;
        Ok(())
    }

    /// Whether `dir` is known to lie below `root` in the tree as this transaction sees it.
    pub fn known_below(&self, root: u64, dir: u64) -> bool {
        let cache = self.caches.within.lock().unwrap_or_else(|p| p.into_inner());
        cache
            .get(&(self.id, root))
            .is_some_and(|b| b.head == self.head() && b.moves == self.moves && b.dirs.contains(&dir))
    }

    /// Remembers directories found below `root`.
    pub fn note_below(&self, root: u64, dirs: &[u64]) {
        let mut cache = self.caches.within.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= WITHIN_ROOTS && !cache.contains_key(&(self.id, root)) {
            cache.clear();
        }
        let below = cache.entry((self.id, root)).or_insert_with(|| Below {
            head: self.head(),
            moves: self.moves,
            dirs: Default::default(),
        });
        if below.head != self.head() || below.moves != self.moves || below.dirs.len() + dirs.len() > WITHIN_DIRS {
            *below = Below {
                head: self.head(),
                moves: self.moves,
                dirs: Default::default(),
            };
        }
        below.dirs.extend(dirs);
    }

    pub fn tx(&self) -> &'t dyn Tx {
        self.tx
    }
}

/// Layer ids as an SQL list, `(a,b,...)`: our own integers, so building the text is safe.
fn sql_list(layers: &[i64]) -> String {
    format!("({})", layers.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

/// `SELECT select FROM source WHERE cond` in each of `layers` (at least one): an index seek
/// per layer, where an `IN` list costs SQLite a temporary table at every run (cheaper only
/// for long lists).
fn seek_each(select: &str, source: &str, cond: &str, layers: &[i64]) -> String {
    const MOST_SEEKS: usize = 8;
    if layers.len() > MOST_SEEKS {
        let list = sql_list(layers);
        return format!("SELECT {select} FROM {source} AS t WHERE {cond} AND layer IN {list}");
    }
    let each: Vec<String> = layers
        .iter()
        .map(|layer| format!("SELECT {select} FROM {source} AS t WHERE {cond} AND layer = {layer}"))
        .collect();
    each.join(" UNION ALL ")
}

/// The layer chain from `head` down to the bottom layer, in one query.
pub(crate) fn chain_of(tx: &dyn Tx, caches: &Caches, head: i64, parent: Option<i64>) -> R<Chain> {
    let chains = &caches.chains;
    let key = (head, parent);
    let cached = chains.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
    if let Some(mut chain) = cached {
        if !chain.filtered && tx.read_only() {
            let (filters, filtered) = caches.filters.of(tx, &chain.layers[1..])?;
            (chain.filters, chain.filtered) = (filters.into(), filtered);
            chains
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, chain.clone());
        }
        return Ok(chain);
    }
    // SQL recursion walks the chain iteratively; its length is bounded by flattening.
    let rows = tx.query(
        "WITH RECURSIVE c(id, parent, parent_as_of, depth) AS (
             SELECT id, parent, parent_as_of, 0 FROM layers WHERE id = $1
             UNION ALL SELECT l.id, l.parent, l.parent_as_of, c.depth + 1 FROM layers l JOIN c ON l.id = c.parent)
         SELECT id, parent_as_of FROM c ORDER BY depth",
        vals![head],
    )?;
    let (mut layers, mut as_of) = (Vec::new(), Vec::new());
    let mut at: Option<i64> = None;
    for row in &rows {
        layers.push(row.i64(0)?);
        as_of.push(at);
        if let Some(t) = row.opt_i64(1)? {
            at = Some(at.map_or(t, |a| a.min(t)));
        }
    }
    if layers.first() != Some(&head) {
        return Err(Fail::Db(DbError::Other(format!("layer {head} is missing"))));
    }
    let (filters, filtered) = caches.filters.of(tx, &layers[1..])?;
    let chain = Chain {
        sql: sql_list(&layers).into(),
        filters: filters.into(),
        filtered,
        layers: layers.into(),
        as_of: as_of.into(),
    };
    chains
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(key, chain.clone());
    Ok(chain)
}

/// The parent of a layer as it is now.
pub(crate) fn parent_of(tx: &dyn Tx, layer: i64) -> R<Option<i64>> {
    tx.query_one("SELECT parent FROM layers WHERE id = $1", vals![layer])?
        .opt_i64(0)
}

/// The volume a tree operation names does not exist (any more): an error about the volume,
/// not about a file in it.
pub(super) fn volume_gone() -> Error {
    Error::new(ErrorKind::VolumeGone, "the volume does not exist (it was deleted)").with_field("volume")
}

fn chunk_from_row(r: &Row) -> R<Chunk> {
    let data = match (
        r.opt_blob(2)?.and_then(|h| <[u8; 32]>::try_from(h).ok()),
        r.opt_blob(3)?,
    ) {
        (Some(pack), sum) if let Some(off) = r.opt_i64(4)? => ChunkData::Packed {
            pack,
            off: off as u64,
            sum: sum.and_then(|s| <[u8; 32]>::try_from(s).ok()),
        },
        (Some(h), None) => ChunkData::Block(h),
        (Some(h), Some(raw)) => ChunkData::Patched(
            h,
            strata_core::patches::Patches::decode(&raw).map_err(|e| Error::internal(e.message))?,
        ),
        (None, data) => ChunkData::Inline(data.unwrap_or_default()),
    };
    Ok(Chunk {
        idx: r.u64(0)?,
        len: r.u64(1)?,
        data,
    })
}

fn inode_from_row(r: &Row) -> R<(bool, Inode)> {
    let stat = Stat {
        ino: r.u64(1)?,
        kind: kind_from_code(r.i64(3)?),
        mode: r.u32(4)?,
        uid: r.u32(5)?,
        gid: r.u32(6)?,
        size: r.u64(7)?,
        nlink: r.u32(8)?,
        rdev: r.u32(9)?,
        atime: r.i64(10)?,
        mtime: r.i64(11)?,
        ctime: r.i64(12)?,
        target: r.opt_text(14)?,
    };
    Ok((
        r.bool(2)?,
        Inode {
            layer: r.i64(0)?,
            stat,
            parent: r.u64(13)?,
            born: r.i64(15)?,
            past: r.bool(16)?,
        },
    ))
}

fn kind_code(kind: FileKind) -> i64 {
    match kind {
        FileKind::File => 1,
        FileKind::Directory => 2,
        FileKind::Symlink => 3,
        FileKind::Fifo => 4,
        FileKind::Socket => 5,
        FileKind::CharDevice => 6,
        FileKind::BlockDevice => 7,
    }
}

fn kind_from_code(code: i64) -> FileKind {
    match code {
        2 => FileKind::Directory,
        3 => FileKind::Symlink,
        4 => FileKind::Fifo,
        5 => FileKind::Socket,
        6 => FileKind::CharDevice,
        7 => FileKind::BlockDevice,
        _ => FileKind::File,
    }
}
