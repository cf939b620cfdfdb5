//! Write-back: while the server grants this mount its tree (no other session, files-API
//! caller, fork or snapshot uses the volume), changes are answered here and shipped later.
//!
//! [`WriteBack`] stands between the mount and its session. The mount [`WriteBack::defer`]s
//! the changes it may answer itself (a create in a directory whose whole listing it holds, a
//! close's commit); they queue in the order made and go to the server in numbered batches,
//! each applied whole in one transaction, at most [`WriteBack`]'s window after they were
//! made. Every other call ships the queue first: the server never answers anything without
//! every change made before it, so what a lookup, a listing or an fsync sees is the mount's
//! own view.
//!
//! The server recalls the ownership when someone else is about to use the volume; the mount
//! stops deferring, ships what it has and gives the ownership back, and asks for it again
//! later. A batch the server refuses is replayed one change at a time, each checked against
//! the tree as it is then; a change refused then is reported by the next `fsync`.

use crate::cache::BlockCache;
use crate::journal::{Journal, Orphan};
use crate::retry::Backoff;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strata_core::api::{AwaitRecall, Batch, NodeRef, SessionInfo};
use strata_core::session::{Reply, Request, SessionApi};
use strata_core::{Error, ErrorKind, Result};
use tokio::sync::{Mutex as AsyncMutex, Notify};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Changes shipped in one batch at most, and the bytes of their requests.
const BATCH_CHANGES: usize = 2048;
const BATCH_BYTES: usize = 1 << 20;
/// Changes queued at most: beyond, a change is made at the server at once (after the queue).
const MAX_QUEUED: usize = 4 * BATCH_CHANGES;
/// Bytes of blocks held here at most while their uploads and the changes that name them
/// wait; beyond, a commit that uploads waits for its uploads and goes to the server at once.
const MAX_BEHIND_BYTES: usize = 64 << 20;
/// Granted inode numbers left when more are asked for.
const LOW_INODES: usize = 2048;
/// How long after a refused ask the mount asks for its tree again, at first: just past the
/// server's quiet second after someone else used the volume.
const FIRST_ASK_AGAIN: Duration = Duration::from_millis(1200);
/// How long one wait for a recall lasts before it is asked again.
const RECALL_POLL: Duration = Duration::from_secs(15);

/// Which grant of ownership the mount is in: bumped at every grant and every loss, odd while
/// the mount owns its tree. What was learnt in one grant is trusted only within it.
#[derive(Default)]
pub struct Epoch(AtomicU64);

impl Epoch {
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Whether `epoch` is one of ownership.
    pub fn owning(epoch: u64) -> bool {
        epoch % 2 == 1
    }
}

/// A change waiting to be shipped: its request, its size in a batch, and the blocks it
/// names that are uploaded behind it.
struct Queued {
    /// Its number, in the order changes are made.
    n: u64,
    request: Request,
    size: usize,
    blocks: Vec<String>,
}

/// A block a deferred change names, uploaded in the background: kept here until every
/// change that names it is applied, so that reads of it are answered meanwhile.
struct Behind {
    data: Bytes,
    upload: Option<JoinHandle<Result<()>>>,
    /// Queued or shipping changes that name it.
    users: usize,
}

#[derive(Default)]
struct Queue {
    /// The last change number used.
    last_change: u64,
    changes: Vec<Queued>,
    bytes: usize,
    behind: HashMap<String, Behind>,
    behind_bytes: usize,
    /// The changes taken from the queue and not yet applied, in order.
    shipment: Option<Shipment>,
    /// Inode numbers granted and not used yet.
    inodes: Vec<NodeRef>,
    /// When the mount took the grant of ownership it is in (or was in last).
    granted_at: Option<Instant>,
}

/// A batch on its way to the server.
#[derive(Clone)]
struct Shipment {
    seq: u64,
    changes: Vec<Request>,
    /// The numbers of its changes.
    numbers: Vec<u64>,
    /// The blocks uploaded behind its changes, stored before the batch goes.
    blocks: Vec<String>,
    /// Refused as a batch: its changes go one at a time.
    singly: bool,
    /// The last attempt at its first change may have applied (its answer was lost).
    maybe_applied: bool,
}

/// Whether `e` is how a repeat of `request`, applied once already, is refused.
fn repeat_of_applied(request: &Request, e: &Error) -> bool {
    match request {
        Request::Create(_) | Request::Link(_) => {
            e.kind == ErrorKind::AlreadyExists || e.field.as_deref() == Some("ino")
        }
        Request::Unlink(_) | Request::Rmdir(_) | Request::Rename(_) => e.kind == ErrorKind::NotFound,
        _ => false,
    }
}

pub struct WriteBack {
    inner: Arc<dyn SessionApi>,
    /// How long a change may wait before it is shipped; `None`: the mount never asks to own.
    window: Option<Duration>,
    retry_for: Duration,
    pub epoch: Arc<Epoch>,
    queue: Mutex<Queue>,
    /// One shipment at a time, so batches arrive in the order their changes were made.
    shipping: AsyncMutex<()>,
    /// The last batch number used.
    seq: AtomicU64,
    /// Wakes the shipper before its window ends: a batch is full, or granted inode numbers
    /// run low.
    wake: Notify,
    /// A change shipped since the last check was refused by the server.
    refused: AtomicBool,
    /// Changes the server refused, ever.
    refusals: AtomicU64,
    /// Where deferred changes are written as they are made (see [`crate::journal`]).
    journal: std::sync::OnceLock<Arc<Journal>>,
    /// A change reached the server since the last sync: it is applied, maybe not durable.
    unsynced: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl WriteBack {
    pub fn new(inner: Arc<dyn SessionApi>, window: Option<Duration>, retry_for: Duration) -> Self {
        WriteBack {
            inner,
            window: window.filter(|w| !w.is_zero()),
            retry_for,
            epoch: Arc::default(),
            queue: Mutex::default(),
            shipping: AsyncMutex::new(()),
            seq: AtomicU64::new(0),
            wake: Notify::new(),
            refused: AtomicBool::new(false),
            refusals: AtomicU64::new(0),
            unsynced: AtomicBool::new(false),
            journal: std::sync::OnceLock::new(),
        }
    }

    /// Writes every change deferred from now on to `journal`.
    pub fn keep_journal(&self, journal: Journal) {
        let _ = self.journal.set(Arc::new(journal));
    }

    /// Whether the mount owns its tree now.
    pub fn owns(&self) -> bool {
        Epoch::owning(self.epoch.now())
    }

    /// When the grant of ownership the mount is in began, while it owns its tree: what it
    /// learnt of the tree since then is the truth until the grant ends (nobody else changes
    /// the tree meanwhile), however old.
    pub fn owned_since(&self) -> Option<Instant> {
        let queue = lock(&self.queue);
        queue.granted_at.filter(|_| self.owns())
    }

    /// A granted inode number for a create made here, while the mount owns its tree in the
    /// grant `epoch` (the one its caller checked what it knows against).
    pub fn take_inode(&self, epoch: u64) -> Option<NodeRef> {
        let mut queue = lock(&self.queue);
        if !Epoch::owning(epoch) || self.epoch.now() != epoch {
            return None;
        }
        if queue.inodes.len() == LOW_INODES {
            self.wake.notify_one();
        }
        queue.inodes.pop()
    }

    /// Queues a change to ship later, if the mount still owns its tree in the grant `epoch`
    /// (the one its caller checked what it knows against) and the queue has room; says
    /// whether it did (if not, the caller makes the change at the server now).
    pub fn defer(&self, epoch: u64, request: Request) -> bool {
        self.defer_uploading(epoch, request, Vec::new())
    }

    /// [`WriteBack::defer`] for a change that names `blocks` (hash and bytes) the server does
    /// not have yet: they are uploaded in the background, and the change ships once they are
    /// stored. Until then reads of them are answered from here. Refused (nothing started)
    /// when their bytes would not fit beside the others waiting.
    pub fn defer_uploading(&self, epoch: u64, request: Request, blocks: Vec<(String, Bytes)>) -> bool {
        let args = request.to_value().to_string();
        let size = args.len();
        let adding: usize = blocks.iter().map(|(_, data)| data.len()).sum();
        let mut queue = lock(&self.queue);
        if !Epoch::owning(epoch)
            || self.epoch.now() != epoch
            || queue.changes.len() >= MAX_QUEUED
            || (adding > 0 && queue.behind_bytes + adding > MAX_BEHIND_BYTES)
        {
            return false;
        }
        let mut names = Vec::with_capacity(blocks.len());
        let queue = &mut *queue;
        for (hash, data) in blocks {
            let entry = queue.behind.entry(hash.clone()).or_insert_with(|| Behind {
                upload: Some(self.upload(hash.clone(), data.clone())),
                data,
                users: 0,
            });
            if entry.users == 0 {
                queue.behind_bytes += entry.data.len();
            }
            entry.users += 1;
            names.push(hash);
        }
        queue.last_change += 1;
        let n = queue.last_change;
        if let Some(journal) = self.journal.get() {
            journal.change(n, &request, &args, &names);
        }
        queue.changes.push(Queued {
            n,
            request,
            size,
            blocks: names,
        });
        queue.bytes += size;
        if queue.changes.len() >= BATCH_CHANGES || queue.bytes >= BATCH_BYTES {
            self.wake.notify_one();
        }
        true
    }

    /// Starts storing a block at the server, waiting out short outages.
    fn upload(&self, hash: String, data: Bytes) -> JoinHandle<Result<()>> {
        let (inner, retry_for, journal) = (self.inner.clone(), self.retry_for, self.journal.get().cloned());
        tokio::spawn(async move {
            crate::retry::retried(retry_for, || inner.put_block(&hash, data.clone())).await?;
            if let Some(journal) = journal {
                journal.stored(&hash);
            }
            Ok(())
        })
    }

    /// Waits until the blocks a shipment names are stored at the server; one whose upload
    /// failed is sent again.
    async fn settle(&self, blocks: &[String]) -> Result<()> {
        for hash in blocks {
            let (upload, data) = match lock(&self.queue).behind.get_mut(hash) {
                Some(b) => (b.upload.take(), b.data.clone()),
                None => continue,
            };
            let stored = match upload {
                Some(task) => task
                    .await
                    .unwrap_or_else(|e| Err(Error::internal(format!("upload task: {e}")))),
                None => Err(Error::new(ErrorKind::Unavailable, "not stored yet")),
            };
            if stored.is_err() {
                self.retry(|| self.inner.put_block(hash, data.clone())).await?;
                if let Some(journal) = self.journal.get() {
                    journal.stored(hash);
                }
            }
        }
        Ok(())
    }

    /// The bytes of a block a waiting change names, while it waits.
    fn behind(&self, hash: &str) -> Option<Bytes> {
        lock(&self.queue).behind.get(hash).map(|b| b.data.clone())
    }

    /// How many changes are not yet applied at the server: queued, or being shipped.
    pub fn queued(&self) -> usize {
        let queue = lock(&self.queue);
        queue.changes.len() + queue.shipment.as_ref().map_or(0, |s| s.changes.len())
    }

    /// Whether a change shipped since the last call was refused (then it is not any more).
    pub fn take_refused(&self) -> bool {
        self.refused.swap(false, Ordering::AcqRel)
    }

    /// Sends every queued change to the server, in order; returns once they are applied.
    /// The batch under way is kept here, not in the caller: a shipment interrupted (the
    /// server unreachable for too long, or the task stopped) goes again first, whole and
    /// under its number, so the server applies it once and before anything after it.
    pub async fn ship(&self) -> Result<()> {
        self.ship_some(false).await
    }

    /// [`WriteBack::ship`]; with `full_only`, only while a whole batch is queued (what is
    /// left waits for its window).
    async fn ship_some(&self, full_only: bool) -> Result<()> {
        let _one_at_a_time = self.shipping.lock().await;
        loop {
            let Some(shipment) = self.next_shipment(full_only) else {
                return Ok(());
            };
            self.unsynced.store(true, Ordering::Release);
            self.settle(&shipment.blocks).await?;
            if !shipment.singly {
                let request = Request::Apply(Batch::of(shipment.seq, &shipment.changes, false));
                match self.retry(|| self.inner.call(request.clone())).await {
                    Ok(_) => {
                        self.shipped(shipment.changes.len());
                        continue;
                    }
                    Err(e) if e.kind == ErrorKind::Unavailable => return Err(e),
                    Err(e) => {
                        tracing::warn!(
                            "a batch of {} changes was refused ({e}); making them one by one",
                            shipment.changes.len()
                        );
                        if e.kind == ErrorKind::Conflict {
                            // The server took the tree back: nothing learnt in it holds.
                            self.lose();
                        }
                        self.replay_singly();
                    }
                }
            }
            self.replay().await?;
        }
    }

    /// The shipment under way, or a new one of the oldest queued changes (up to a batch).
    fn next_shipment(&self, full_only: bool) -> Option<Shipment> {
        let mut queue = lock(&self.queue);
        if let Some(shipment) = &queue.shipment {
            return Some(shipment.clone());
        }
        if full_only && queue.changes.len() < BATCH_CHANGES && queue.bytes < BATCH_BYTES {
            return None;
        }
        let (mut n, mut bytes) = (0, 0);
        for queued in &queue.changes {
            if n == BATCH_CHANGES || (n > 0 && bytes + queued.size > BATCH_BYTES) {
                break;
            }
            (n, bytes) = (n + 1, bytes + queued.size);
        }
        if n == 0 {
            return None;
        }
        queue.bytes -= bytes;
        let (mut changes, mut numbers, mut blocks) = (Vec::with_capacity(n), Vec::with_capacity(n), Vec::new());
        for queued in queue.changes.drain(..n) {
            changes.push(queued.request);
            numbers.push(queued.n);
            blocks.extend(queued.blocks);
        }
        let seq = self.seq.fetch_add(1, Ordering::AcqRel) + 1;
        if let (Some(journal), Some(&upto)) = (self.journal.get(), numbers.last()) {
            journal.batch(seq, upto);
        }
        let shipment = Shipment {
            seq,
            changes,
            numbers,
            blocks,
            singly: false,
            maybe_applied: false,
        };
        queue.shipment = Some(shipment.clone());
        Some(shipment)
    }

    /// The first `n` changes of the shipment under way are applied.
    fn shipped(&self, n: usize) {
        let mut queue = lock(&self.queue);
        let queue = &mut *queue;
        if let Some(shipment) = &mut queue.shipment {
            let n = n.min(shipment.changes.len());
            shipment.changes.drain(..n);
            let upto = shipment.numbers.drain(..n).next_back();
            shipment.maybe_applied = false;
            if let (Some(journal), Some(upto)) = (self.journal.get(), upto) {
                let idle = shipment.changes.is_empty() && queue.changes.is_empty();
                if idle || journal.is_long() {
                    // Only what is not applied is kept: the journal stays short. The rest of
                    // the shipment names only blocks already stored (it went after them).
                    let batch_upto = shipment.numbers.last().copied().unwrap_or(upto);
                    let pending: Vec<(u64, &Request, &[String])> = (shipment.numbers.iter())
                        .zip(&shipment.changes)
                        .map(|(n, r)| (*n, r, &[][..]))
                        .chain(queue.changes.iter().map(|q| (q.n, &q.request, &q.blocks[..])))
                        .collect();
                    journal.restart(shipment.seq, batch_upto, upto, &pending);
                } else {
                    journal.applied(upto);
                }
            }
            if shipment.changes.is_empty() {
                // Stored and named: reads of its blocks go to the cache or the server now.
                for hash in &shipment.blocks {
                    if let Some(b) = queue.behind.get_mut(hash) {
                        b.users -= 1;
                        if b.users == 0 {
                            queue.behind_bytes -= b.data.len();
                            queue.behind.remove(hash);
                        }
                    }
                }
                queue.shipment = None;
            }
        }
    }

    /// The shipment under way goes one change at a time from now on.
    fn replay_singly(&self) {
        if let Some(shipment) = &mut lock(&self.queue).shipment {
            shipment.singly = true;
        }
    }

    /// Makes the changes of a refused batch one at a time; one refused again is dropped and
    /// reported. A change whose answer was lost may have applied: its repeat, refused the
    /// way a repeat is, counts as done.
    async fn replay(&self) -> Result<()> {
        loop {
            let next = lock(&self.queue)
                .shipment
                .as_ref()
                .and_then(|s| Some((s.changes.first()?.clone(), s.maybe_applied)));
            let Some((request, maybe_applied)) = next else {
                return Ok(());
            };
            let mut backoff = Backoff::new(self.retry_for);
            let mut lost_answer = maybe_applied;
            let outcome = loop {
                match self.inner.call(request.clone()).await {
                    Err(e) if backoff.retry_after(&e).await => lost_answer = true,
                    other => break other,
                }
            };
            match outcome {
                Ok(_) => {}
                Err(e) if e.kind == ErrorKind::Unavailable => {
                    if let Some(shipment) = &mut lock(&self.queue).shipment {
                        shipment.maybe_applied = true;
                    }
                    return Err(e);
                }
                Err(e) if lost_answer && repeat_of_applied(&request, &e) => {}
                // A file deleted while open: its content has no reader left to keep (as
                // for a commit made at once).
                Err(e) if e.kind == ErrorKind::NotFound && matches!(request, Request::Write(_)) => {}
                Err(e) => {
                    tracing::warn!(
                        "the server refused a {} made while this mount owned its tree: {e}",
                        request.name()
                    );
                    self.refused.store(true, Ordering::Release);
                    self.refusals.fetch_add(1, Ordering::AcqRel);
                    // What the mount showed of it was wrong: what it learnt in this grant is
                    // trusted no more (a new grant starts afresh).
                    self.lose();
                }
            }
            self.shipped(1);
        }
    }

    async fn retry<T, F: Future<Output = Result<T>>>(&self, call: impl Fn() -> F) -> Result<T> {
        crate::retry::retried(self.retry_for, call).await
    }

    /// Makes every change this mount made durable, deferred ones included: ships them, and
    /// syncs the server's metadata if any change reached it since the last sync.
    pub async fn sync_all(&self) -> Result<()> {
        self.ship().await?;
        if self.unsynced.swap(false, Ordering::AcqRel) {
            let synced = self.retry(|| self.inner.call(Request::Sync(()))).await;
            if synced.is_err() {
                self.unsynced.store(true, Ordering::Release);
            }
            synced?;
        }
        Ok(())
    }

    /// Stops deferring, ships what was deferred, and gives the ownership back.
    pub async fn give_back(&self) -> Result<()> {
        if !self.lose() {
            return Ok(());
        }
        self.ship().await?;
        self.retry(|| self.inner.call(Request::Disown(()))).await.map(drop)
    }

    /// Ends this epoch of ownership, if the mount owned its tree; says whether it did.
    fn lose(&self) -> bool {
        let mut queue = lock(&self.queue);
        if !self.owns() {
            return false;
        }
        queue.inodes.clear();
        self.epoch.0.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Asks for the tree (or for more inode numbers, while owning it). A grant answered after
    /// the mount gave the tree back (or lost it) meanwhile is not taken: the server's word
    /// since then stands.
    async fn ask(&self) -> Result<()> {
        let asked_in = self.epoch.now();
        let granted = match self.inner.call(Request::Own(())).await? {
            Reply::Own(grant) => grant.inodes,
            _ => return Err(Error::internal("own answered with another reply")),
        };
        let mut queue = lock(&self.queue);
        if granted.is_empty() || self.epoch.now() != asked_in {
            return Ok(());
        }
        queue.inodes.extend(granted.into_iter().rev());
        if !Epoch::owning(asked_in) {
            queue.granted_at = Some(Instant::now());
            self.epoch.0.fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }

    /// Runs while the mount does: asks for the tree when it has none (soon after the mount
    /// starts or gives it back, then less and less often, up to every `longest`), ships
    /// every window, and gives the tree back when the server recalls it.
    pub async fn run(self: Arc<Self>, longest: Duration) {
        let Some(window) = self.window else { return };
        let shipper = {
            let this = self.clone();
            tokio::spawn(async move {
                // Whole batches as soon as they are queued; everything once the window ends,
                // so no change waits longer than it, however busy the mount.
                let mut due = tokio::time::Instant::now() + window;
                loop {
                    let woken = tokio::time::timeout_at(due, this.wake.notified()).await.is_ok();
                    if this.owns() && lock(&this.queue).inodes.len() <= LOW_INODES {
                        let _ = this.ask().await;
                    }
                    if !woken {
                        due = tokio::time::Instant::now() + window;
                    }
                    if let Err(e) = this.ship_some(woken).await {
                        tracing::warn!("cannot ship this mount's changes yet: {e}");
                    }
                }
            })
        };
        let _stop_shipper = AbortOnDrop(shipper);
        let mut pause = FIRST_ASK_AGAIN;
        loop {
            if !self.owns() {
                if let Err(e) = self.ask().await {
                    tracing::debug!("cannot ask for ownership: {e}");
                }
                if !self.owns() {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(longest.max(FIRST_ASK_AGAIN));
                    continue;
                }
                pause = FIRST_ASK_AGAIN;
            }
            let wait = AwaitRecall {
                wait_ms: RECALL_POLL.as_millis() as u64,
            };
            match self.inner.call(Request::AwaitRecall(wait)).await {
                Ok(Reply::AwaitRecall(o)) if o.owner && !o.recalled => {}
                Ok(_) => {
                    if let Err(e) = self.give_back().await {
                        tracing::warn!("cannot give the tree back: {e}");
                    }
                }
                Err(e) => {
                    tracing::debug!("cannot wait for a recall: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

/// Replays what a dead mount's journal holds under that mount's `session` (see
/// [`crate::journal`]): the batch it had under way again under its number (the server
/// answers a repeat of one it applied without applying it again), then the rest in new
/// batches, each refused one made a change at a time as always. Ends the session after.
/// Returns how many changes were replayed, and how many of them, or of those left out, the
/// server does not hold.
pub async fn replay(
    orphan: &mut Orphan,
    session: Arc<dyn SessionApi>,
    cache: &BlockCache,
    retry_for: Duration,
) -> Result<(usize, usize)> {
    let write_back = WriteBack::new(session, None, retry_for);
    let total = orphan.shipment.as_ref().map_or(0, |(_, c)| c.len()) + orphan.queued.len();
    if total == 0 {
        return Ok((0, 0));
    }
    // Its lease ran out (the session is gone): nothing can be replayed under it.
    if let Err(e) = write_back.inner.renew().await {
        if e.kind == ErrorKind::Unavailable {
            return Err(e);
        }
        return Ok((0, total));
    }
    // The blocks its changes name that the server may not have go from the cache folder,
    // where the mount kept them; a change naming one that is not there cannot be made,
    // nor any after it.
    let mut made = 0;
    'changes: for (_, _, blocks) in orphan.shipment.iter().flat_map(|(_, c)| c).chain(&orphan.queued) {
        for hash in blocks {
            if orphan.stored.contains(hash) {
                continue;
            }
            let Some(data) = cache.get(hash).await else {
                break 'changes;
            };
            let inner = &write_back.inner;
            match crate::retry::retried(retry_for, || inner.put_block(hash, data.clone())).await {
                Ok(()) => orphan.stored.insert(hash.clone()),
                Err(e) if e.kind == ErrorKind::Unavailable => return Err(e),
                // Refused (a quota): neither this change nor any after it can be made.
                Err(_) => break 'changes,
            };
        }
        made += 1;
    }
    let mut left = made;
    if let Some((_, changes)) = &mut orphan.shipment {
        changes.truncate(left);
        left -= changes.len();
    }
    orphan.queued.truncate(left);
    let dropped = total - made;
    {
        let mut queue = lock(&write_back.queue);
        let mut last_seq = orphan.last_seq;
        if let Some((seq, changes)) = orphan.shipment.take() {
            last_seq = last_seq.max(seq);
            let (numbers, changes) = changes.into_iter().map(|(n, r, _)| (n, r)).unzip();
            queue.shipment = Some(Shipment {
                seq,
                changes,
                numbers,
                blocks: Vec::new(),
                singly: false,
                // The dead mount may have made its first change singly, and died before
                // saying so.
                maybe_applied: true,
            });
        }
        write_back.seq.store(last_seq, Ordering::Release);
        for (n, request, _) in std::mem::take(&mut orphan.queued) {
            let size = request.to_value().to_string().len();
            queue.bytes += size;
            queue.changes.push(Queued {
                n,
                request,
                size,
                blocks: Vec::new(),
            });
        }
    }
    write_back.ship().await?;
    let lost = write_back.refusals.load(Ordering::Acquire) as usize;
    // Its session ends: nothing of it is needed any more.
    if let Err(e) = write_back.inner.close().await {
        tracing::debug!("cannot end the replayed session: {e}");
    }
    Ok((made, lost + dropped))
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The session as the mount uses it: every call but the block transfers ships the queue first.
#[async_trait::async_trait]
impl SessionApi for WriteBack {
    fn info(&self) -> &SessionInfo {
        self.inner.info()
    }

    async fn call(&self, request: Request) -> Result<Reply> {
        self.ship().await?;
        match &request {
            // Everything committed before it starts is durable once it returns.
            Request::Sync(()) => self.unsynced.store(false, Ordering::Release),
            Request::Write(w) if w.durable => self.unsynced.store(false, Ordering::Release),
            r if strata_core::session::BATCHED.contains(&r.name()) => self.unsynced.store(true, Ordering::Release),
            _ => {}
        }
        let reply = self.inner.call(request.clone()).await;
        if reply.is_err() && matches!(request, Request::Sync(()) | Request::Write(_)) {
            self.unsynced.store(true, Ordering::Release);
        }
        reply
    }

    async fn renew(&self) -> Result<()> {
        self.inner.renew().await
    }

    async fn close(&self) -> Result<()> {
        self.lose();
        self.ship().await?;
        self.inner.close().await?;
        if let Some(journal) = self.journal.get() {
            journal.remove();
        }
        Ok(())
    }

    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()> {
        self.inner.put_block(hash, data).await
    }

    async fn get_block(&self, hash: &str) -> Result<Bytes> {
        match self.behind(hash) {
            Some(data) => Ok(data),
            None => self.inner.get_block(hash).await,
        }
    }

    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        if self.behind(hash).is_some() {
            // Read whole, from here.
            return Err(Error::invalid("block", "held by this mount"));
        }
        self.inner.get_pieces(hash, first, last).await
    }
}
