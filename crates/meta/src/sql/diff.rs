//! What differs between two trees: paths added, removed and changed, in path order.
//!
//! Two volumes that share layers (a fork and its source, a volume and its snapshots and
//! moments) differ only in the rows of the layers they do not share, or of a shared layer
//! read at two instants the rows written or replaced between them: those rows name the
//! paths to compare ([`Scope`]), and only those are compared, so the cost follows the
//! changes, not the size of the tree. Volumes with no layer in common are walked whole. A
//! directory found on one side only is one entry (what it holds is not listed). Every walk
//! iterates with its own stack and names each directory once, however deep the tree.

use super::tree::{Inode, Tree};
use super::{Fail, R, Tx};
use crate::{Error, ROOT_INO};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use strata_core::api::{Change, DiffEntry, FileKind};

pub fn diff(a: &Tree, b: &Tree) -> R<Vec<DiffEntry>> {
    let scope = match changed_rows(a, b)? {
        Some(rows) => Some(Scope::naming(&[a, b], &rows)?),
        None => None,
    };
    compare(a, b, scope.as_ref())
}

/// Inodes and entries some rows name.
#[derive(Default)]
pub struct Rows {
    inos: BTreeSet<u64>,
    entries: BTreeSet<(u64, Vec<u8>)>,
}

impl Rows {
    pub fn extend(&mut self, other: Rows) {
        self.inos.extend(other.inos);
        self.entries.extend(other.entries);
    }
}

/// The rows written in the layers `a` and `b` do not share, or in a layer both read at other
/// instants since the earlier one; `None` when they share no layer.
pub fn changed_rows(a: &Tree, b: &Tree) -> R<Option<Rows>> {
    let ((la, aa), (lb, ab)) = (a.layers(), b.layers());
    // Chains that meet go on alike below (a layer's parent never changes, but for the
    // flatten that merges a chain's lower layers into one): the layers they share are a
    // suffix of both, though perhaps read at other instants.
    let mut shared = 0;
    while shared < la.len().min(lb.len()) && la[la.len() - 1 - shared] == lb[lb.len() - 1 - shared] {
        shared += 1;
    }
    if shared == 0 {
        return Ok(None);
    }
    // Each layer and since when its rows count: a layer only one side reads, all of them;
    // one both read at other instants, only what changed after the earlier; one both read
    // alike, none.
    let instant = |t: Option<i64>| t.unwrap_or(i64::MAX);
    let mut upper: HashMap<i64, Option<i64>> = HashMap::new();
    for layers in [la, lb] {
        upper.extend(layers[..layers.len() - shared].iter().map(|&layer| (layer, None)));
    }
    for depth in 0..shared {
        let (x, y) = (aa[aa.len() - 1 - depth], ab[ab.len() - 1 - depth]);
        if x != y {
            upper.insert(la[la.len() - 1 - depth], Some(instant(x).min(instant(y))));
        }
    }
    let tx = a.tx();
    let mut rows = Rows::default();
    for (layer, since) in upper {
        // Our own integers, so building the SQL text is safe. A replaced version died after
        // it was born, so `died > t` covers every version written or replaced after t.
        let (live, past) = match since {
            Some(t) => (format!(" AND born > {t}"), format!(" AND died > {t}")),
            None => (String::new(), String::new()),
        };
        for row in tx.query(
            &format!(
                "SELECT ino FROM inodes WHERE layer = {layer}{live}
                 UNION SELECT ino FROM past_inodes WHERE layer = {layer}{past}"
            ),
            &[],
        )? {
            rows.inos.insert(row.u64(0)?);
        }
        for row in tx.query(
            &format!(
                "SELECT parent, name FROM dentries WHERE layer = {layer}{live}
                 UNION SELECT parent, name FROM past_dentries WHERE layer = {layer}{past}"
            ),
            &[],
        )? {
            rows.entries.insert((row.u64(0)?, row.blob(1)?));
        }
    }
    Ok(Some(rows))
}

/// The paths some rows name in some trees, as a tree of names: node 0 is the root.
pub struct Scope {
    children: Vec<BTreeMap<Vec<u8>, usize>>,
}

impl Scope {
    pub fn naming(trees: &[&Tree], rows: &Rows) -> R<Scope> {
        let mut scope = Scope {
            children: vec![BTreeMap::new()],
        };
        for tree in trees {
            // Where each directory of this tree sits in the scope, `None` if it is not in
            // the tree: every directory is climbed once.
            let mut dirs: HashMap<u64, Option<usize>> = HashMap::new();
            for &ino in &rows.inos {
                if ino != ROOT_INO {
                    for (parent, name) in tree.names_of(ino)? {
                        scope.add(tree, parent, name, &mut dirs)?;
                    }
                }
            }
            for (parent, name) in &rows.entries {
                scope.add(tree, *parent, name.clone(), &mut dirs)?;
            }
        }
        Ok(scope)
    }

    pub fn children(&self, node: usize) -> &BTreeMap<Vec<u8>, usize> {
        &self.children[node]
    }

    fn add(&mut self, tree: &Tree, dir: u64, name: Vec<u8>, dirs: &mut HashMap<u64, Option<usize>>) -> R<()> {
        if let Some(node) = self.node_of(tree, dir, dirs)? {
            self.child(node, name);
        }
        Ok(())
    }

    fn child(&mut self, node: usize, name: Vec<u8>) -> usize {
        let next = self.children.len();
        let child = *self.children[node].entry(name).or_insert(next);
        if child == next {
            self.children.push(BTreeMap::new());
        }
        child
    }

    fn node_of(&mut self, tree: &Tree, dir: u64, dirs: &mut HashMap<u64, Option<usize>>) -> R<Option<usize>> {
        let mut climbed = Vec::new();
        let mut at = dir;
        let top = loop {
            if at == ROOT_INO {
                break Some(0);
            }
            if let Some(&node) = dirs.get(&at) {
                break node;
            }
            if climbed.len() > 1 << 24 {
                return Err(Fail::Fs(Error::internal("a directory's parents form a loop")));
            }
            let Some((parent, name)) = tree.names_of(at)?.into_iter().next() else {
                break None;
            };
            climbed.push((at, name));
            at = parent;
        };
        let mut node = top;
        for (ino, name) in climbed.into_iter().rev() {
            node = node.map(|n| self.child(n, name));
            dirs.insert(ino, node);
        }
        Ok(node)
    }
}

/// The entry `name` of directory `dir` (if the tree has that directory).
pub fn entry(tree: &Tree, dir: Option<u64>, name: &[u8]) -> R<Option<Inode>> {
    let Some(dir) = dir else { return Ok(None) };
    match tree.dentry(dir, name)? {
        Some(ino) => tree.inode(ino),
        None => Ok(None),
    }
}

fn dir_of(inode: &Inode) -> Option<u64> {
    (inode.stat.kind == FileKind::Directory).then_some(inode.stat.ino)
}

/// A path to compare: its name, its node in the scope (`None`: every path below it counts),
/// and its entry on each side; `None` ends a directory's entries.
type Step = Option<(Vec<u8>, Option<usize>, Option<Inode>, Option<Inode>)>;

/// Compares the paths of `scope` (every path when it is `None`) depth first, both sides'
/// entries in name order; descends only where both sides hold a directory. Below two
/// different directories at one path (one moved over the other's place) every path counts:
/// the entries a moved directory brought were written where it was made, not as changes.
fn compare(a: &Tree, b: &Tree, scope: Option<&Scope>) -> R<Vec<DiffEntry>> {
    let mut out = Vec::new();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut stack = Vec::new();
    push_children(a, b, scope.map(|s| (s, 0)), (ROOT_INO, ROOT_INO), &mut stack)?;
    while let Some(step) = stack.pop() {
        let Some((name, node, left, right)) = step else {
            path.pop();
            continue;
        };
        let change = match (&left, &right) {
            (Some(_), None) => Change::Removed,
            (None, Some(_)) => Change::Added,
            (Some(l), Some(r)) => {
                let changed = differs(a, l, b, r)?;
                if let (Some(x), Some(y)) = (dir_of(l), dir_of(r)) {
                    stack.push(None);
                    let below = node.filter(|_| x == y).and_then(|n| scope.map(|s| (s, n)));
                    push_children(a, b, below, (x, y), &mut stack)?;
                    if changed {
                        out.push(shown(&path, &name, Change::Changed));
                    }
                    path.push(name);
                    continue;
                }
                if !changed {
                    continue;
                }
                Change::Changed
            }
            (None, None) => continue,
        };
        out.push(shown(&path, &name, change));
    }
    Ok(out)
}

fn push_children(
    a: &Tree,
    b: &Tree,
    scope: Option<(&Scope, usize)>,
    (x, y): (u64, u64),
    stack: &mut Vec<Step>,
) -> R<()> {
    let mut named = Vec::new();
    match scope {
        Some((scope, node)) => {
            for (name, &child) in scope.children(node) {
                named.push((
                    name.clone(),
                    Some(child),
                    entry(a, Some(x), name)?,
                    entry(b, Some(y), name)?,
                ));
            }
        }
        None => {
            let mut left: BTreeMap<_, _> = a.entries_with_inodes(x)?.into_iter().collect();
            let mut right: BTreeMap<_, _> = b.entries_with_inodes(y)?.into_iter().collect();
            let names: BTreeSet<Vec<u8>> = left.keys().chain(right.keys()).cloned().collect();
            for name in names {
                let (l, r) = (left.remove(&name), right.remove(&name));
                named.push((name, None, l, r));
            }
        }
    }
    stack.extend(named.into_iter().rev().map(Some));
    Ok(())
}

fn shown(dir: &[Vec<u8>], name: &[u8], change: Change) -> DiffEntry {
    let mut path = String::new();
    for name in dir.iter().map(Vec::as_slice).chain([name]) {
        path.push('/');
        path.push_str(&String::from_utf8_lossy(name));
    }
    DiffEntry { path, change }
}

/// Whether two entries differ in kind, permissions, owner, size, target or content.
fn differs(ta: &Tree, a: &Inode, tb: &Tree, b: &Inode) -> R<bool> {
    let (x, y) = (&a.stat, &b.stat);
    if (x.kind, x.mode, x.uid, x.gid, x.size, &x.target) != (y.kind, y.mode, y.uid, y.gid, y.size, &y.target) {
        return Ok(true);
    }
    if x.kind != FileKind::File || a.same_row(b) {
        return Ok(false);
    }
    let (ca, cb) = (ta.chunks(a)?, tb.chunks(b)?);
    Ok(ca.len() != cb.len() || ca.iter().zip(&cb).any(|(p, q)| !p.same_bytes(q)))
}

/// [`diff`] of two volumes in one read.
pub fn volumes(tx: &dyn Tx, caches: &super::tree::Caches, a: uuid::Uuid, b: uuid::Uuid) -> R<Vec<DiffEntry>> {
    let (ta, tb) = (Tree::open(tx, caches, a, false)?, Tree::open(tx, caches, b, false)?);
    diff(&ta, &tb)
}
