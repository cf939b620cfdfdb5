//! Which keys each frozen layer holds, kept in memory so that a lookup asks only the layers
//! that can answer it: a read at fork depth 64 costs about what it costs at depth 1.
//!
//! A frozen layer never gains a row (collection only ever removes some), and layer ids are
//! never reused, so what a frozen layer held when its filter was read stays a superset of
//! what it holds for ever after, whichever server reads it. A layer not yet frozen (a head)
//! and a layer with more than [`MAX_ROWS`] rows of a kind are asked for every key of that
//! kind.

use super::{R, Tx, vals};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Rows of one kind (inodes, entries) a layer may hold and still be filtered: bounds the
/// time to read a filter and the memory it takes.
const MAX_ROWS: usize = 16_384;

/// Keys kept in all filters together; past it the cache starts over.
const MAX_KEPT: usize = 1 << 22;

/// The keys of one layer, sorted, each `None` when the layer is asked for every key.
#[derive(Debug, Default)]
pub(crate) struct LayerFilter {
    /// Inodes with a row of attributes or xattrs, live or past.
    inos: Option<Box<[u64]>>,
    /// Directories with an entry (or a whiteout of one), live or past.
    parents: Option<Box<[u64]>>,
}

impl LayerFilter {
    /// Whether the layer may hold a row of inode `ino` (its attributes or xattrs).
    pub fn may_hold_inode(&self, ino: u64) -> bool {
        self.inos.as_ref().is_none_or(|keys| keys.binary_search(&ino).is_ok())
    }

    /// Whether the layer is asked for every inode (its filter keeps none).
    pub fn holds_any_inode(&self) -> bool {
        self.inos.is_none()
    }

    /// Whether the layer may hold an entry of directory `parent`.
    pub fn may_hold_entries_of(&self, parent: u64) -> bool {
        self.parents
            .as_ref()
            .is_none_or(|keys| keys.binary_search(&parent).is_ok())
    }

    /// Whether any of `filters` may hold a row of inode `ino`, asked many times: returns the
    /// question, answered by one search of their keys together when they are few.
    pub fn any_may_hold_inode<'a>(filters: &'a [&'a LayerFilter]) -> impl Fn(u64) -> bool + 'a {
        const MOST_KEYS: usize = 4096;
        let mut keys: Option<Vec<u64>> = Some(Vec::new());
        for filter in filters {
            keys = match (keys, &filter.inos) {
                (Some(mut all), Some(own)) if all.len() + own.len() <= MOST_KEYS => {
                    all.extend_from_slice(own);
                    Some(all)
                }
                _ => None,
            };
        }
        let keys = keys.map(|mut all| {
            all.sort_unstable();
            all
        });
        move |ino| match &keys {
            Some(all) => all.binary_search(&ino).is_ok(),
            None => filters.iter().any(|f| f.may_hold_inode(ino)),
        }
    }

    fn size(&self) -> usize {
        self.inos.as_ref().map_or(0, |k| k.len()) + self.parents.as_ref().map_or(0, |k| k.len())
    }
}

/// The filters read so far, by layer.
#[derive(Default)]
pub(crate) struct Filters {
    layers: Mutex<(HashMap<i64, Arc<LayerFilter>>, usize)>,
}

impl Filters {
    /// The filter of each layer, in order, and whether each is its own (not a stand-in that
    /// asks for every key). Those not kept yet are read only in a transaction that only
    /// reads: a writer may have frozen a layer itself and still roll back.
    pub fn of(&self, tx: &dyn Tx, layers: &[i64]) -> R<(Vec<Arc<LayerFilter>>, bool)> {
        let mut found: Vec<Option<Arc<LayerFilter>>> = {
            let kept = self.layers.lock().unwrap_or_else(|p| p.into_inner());
            layers.iter().map(|l| kept.0.get(l).cloned()).collect()
        };
        let mut complete = true;
        for (slot, &layer) in found.iter_mut().zip(layers) {
            if slot.is_none() {
                *slot = Some(match tx.read_only() {
                    true => self.read(tx, layer)?,
                    false => {
                        complete = false;
                        Arc::default()
                    }
                });
            }
        }
        Ok((found.into_iter().flatten().collect(), complete))
    }

    fn read(&self, tx: &dyn Tx, layer: i64) -> R<Arc<LayerFilter>> {
        let frozen = tx
            .query_opt("SELECT frozen FROM layers WHERE id = $1", vals![layer])?
            .map(|row| row.bool(0))
            .transpose()?
            .unwrap_or(false);
        if !frozen {
            return Ok(Arc::default()); // Not kept: asked again next time.
        }
        let filter = Arc::new(LayerFilter {
            inos: keys(tx, layer, &["inodes", "past_inodes", "xattrs", "past_xattrs"], "ino")?,
            parents: keys(tx, layer, &["dentries", "past_dentries"], "parent")?,
        });
        let mut kept = self.layers.lock().unwrap_or_else(|p| p.into_inner());
        if kept.1 + filter.size() > MAX_KEPT {
            *kept = Default::default();
        }
        kept.1 += filter.size();
        kept.0.insert(layer, filter.clone());
        Ok(filter)
    }
}

/// The values of `column` in a layer's rows of `tables`, or `None` if there are more than
/// [`MAX_ROWS`] rows in any of them.
fn keys(tx: &dyn Tx, layer: i64, tables: &[&str], column: &str) -> R<Option<Box<[u64]>>> {
    let mut keys = Vec::new();
    for table in tables {
        let sql = format!("SELECT {column} FROM {table} WHERE layer = $1 LIMIT {}", MAX_ROWS + 1);
        let rows = tx.query(&sql, vals![layer])?;
        if rows.len() > MAX_ROWS {
            return Ok(None);
        }
        for row in rows {
            keys.push(row.u64(0)?);
        }
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(Some(keys.into()))
}
