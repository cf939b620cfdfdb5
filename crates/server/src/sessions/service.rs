//! The session service: every rule of the session API, written once, whatever carries the
//! calls (the HTTP routes, or a mount in the same process).
//!
//! A call presents inodes by capability ([`Session::check`]); a write needs a writable
//! session; inputs are checked here; the metadata engine runs each operation on the
//! session's [`Reach`], so the subpath rule holds in the transaction that makes the change.

use super::{LiveSession, Session, decode, encode, ownership, parse_hash};
use crate::state::AppState;
use bytes::Bytes;
use strata_blocks::{BlockError, Sealed};
use strata_core::api::*;
use strata_core::names::VolumeRef;
use strata_core::session::{Reply, Request};
use strata_core::{Error, ErrorKind, Result};
use strata_meta::{BlockHash, Change, Chunk, Reach, RenameFlags, WriteChange, XattrMode};

/// One session's calls.
pub struct SessionService {
    state: AppState,
    session: Session,
}

/// The bytes of a name as the engine takes them.
fn name(name: &str) -> Vec<u8> {
    name.as_bytes().to_vec()
}

impl SessionService {
    pub fn new(state: AppState, session: Session) -> Self {
        SessionService { state, session }
    }

    pub fn reach(&self) -> Reach {
        Reach::below(self.session.volume(), self.session.0.root_ino)
    }

    /// The inode a reference names, if the session was handed it.
    fn ino(&self, node: &NodeRef) -> Result<u64> {
        self.session.check(node)
    }

    /// Runs one inode operation.
    pub async fn serve(&self, request: Request) -> Result<Reply> {
        Ok(match request {
            Request::Lookup(r) => Reply::Lookup(self.lookup(r).await?),
            Request::GetAttr(r) => Reply::GetAttr(self.getattr(r).await?),
            Request::ReadDir(r) => Reply::ReadDir(self.readdir(r).await?),
            Request::Create(r) => Reply::Create(self.made(&r.parent.clone(), Request::Create(r)).await?),
            Request::Link(r) => Reply::Link(self.made(&r.parent.clone(), Request::Link(r)).await?),
            r @ (Request::Unlink(_) | Request::Rmdir(_) | Request::Rename(_)) => {
                let name = r.name();
                self.apply_one(r).await?;
                match name {
                    "unlink" => Reply::Unlink(()),
                    "rmdir" => Reply::Rmdir(()),
                    _ => Reply::Rename(()),
                }
            }
            r @ Request::SetAttr(_) => Reply::SetAttr(self.apply_stat(r).await?),
            Request::Content(r) => Reply::Content(self.content(r).await?),
            Request::Write(r) => Reply::Write(self.write(r).await?),
            Request::GetXattr(r) => Reply::GetXattr(self.getxattr(r).await?),
            r @ Request::SetXattr(_) => Reply::SetXattr(self.apply_one(r).await.map(drop)?),
            Request::ListXattr(r) => Reply::ListXattr(self.listxattr(r).await?),
            r @ Request::RemoveXattr(_) => Reply::RemoveXattr(self.apply_one(r).await.map(drop)?),
            Request::Sync(()) => Reply::Sync(self.state.meta(|m| m.sync()).await?),
            Request::StatFs(()) => Reply::StatFs(self.statfs().await?),
            Request::GetLk(r) => Reply::GetLk(self.getlk(r).await?),
            Request::SetLk(r) => Reply::SetLk(self.setlk(r).await?),
            Request::Own(()) => Reply::Own(ownership::own(&self.state, &self.session).await?),
            Request::Disown(()) => Reply::Disown(ownership::disown(&self.state, &self.session).await?),
            Request::AwaitRecall(r) => {
                Reply::AwaitRecall(ownership::await_recall(&self.state, &self.session, r).await?)
            }
            Request::Apply(r) => Reply::Apply(ownership::apply(self, &self.state, &self.session, r).await?),
        })
    }

    async fn lookup(&self, r: NodeName) -> Result<Node> {
        let (at, parent, name) = (self.reach(), self.ino(&r.parent)?, name(&r.name));
        let stat = self.state.meta(move |m| m.lookup(at, parent, &name)).await?;
        Ok(self.session.node(stat))
    }

    async fn getattr(&self, r: NodeOnly) -> Result<Stat> {
        let (at, ino) = (self.reach(), self.ino(&r.node)?);
        self.state.meta(move |m| m.getattr(at, ino)).await
    }

    /// One page of a directory: a listing of any size costs bounded memory on both sides.
    async fn readdir(&self, r: ReadDir) -> Result<DirPage> {
        let (at, ino) = (self.reach(), self.ino(&r.node)?);
        let (limit, after) = (r.checked_limit()?, r.checked_after()?.map(<[u8]>::to_vec));
        let page = self
            .state
            .meta(move |m| m.readdir_page(at, ino, after.as_deref(), limit))
            .await?;
        let entries = page
            .entries
            .into_iter()
            .map(|(name, stat, xattrs)| {
                let node = self.session.node(stat);
                NamedNode {
                    name: String::from_utf8_lossy(&name).into_owned(),
                    node: node.node,
                    stat: node.stat,
                    xattrs,
                }
            })
            .collect();
        let next = page.next.map(|n| String::from_utf8_lossy(&n).into_owned());
        Ok(DirPage { entries, next })
    }

    /// A change as the engine takes it, checked as every change is, alone or in a batch:
    /// the session may write, names the inodes by capability, and sends sound values.
    pub fn change(&self, request: Request) -> Result<Change> {
        self.session.writable()?;
        Ok(match request {
            Request::Create(r) => {
                let mut new = r.new;
                new.ino = r.ino.as_ref().map(|node| self.ino(node)).transpose()?;
                new.at = r.at;
                Change::Create {
                    parent: self.ino(&r.parent)?,
                    name: name(&r.name),
                    new,
                    by: Some(self.session.0.id),
                }
            }
            Request::Link(r) => Change::Link {
                ino: self.ino(&r.node)?,
                parent: self.ino(&r.parent)?,
                name: name(&r.name),
            },
            Request::Unlink(r) => Change::Unlink {
                parent: self.ino(&r.parent)?,
                name: name(&r.name),
                at: r.at,
            },
            Request::Rmdir(r) => Change::Rmdir {
                parent: self.ino(&r.parent)?,
                name: name(&r.name),
                at: r.at,
            },
            Request::Rename(r) => Change::Rename {
                from: (self.ino(&r.parent)?, name(&r.name)),
                to: (self.ino(&r.new_parent)?, name(&r.new_name)),
                flags: RenameFlags {
                    no_replace: r.no_replace,
                },
                at: r.at,
            },
            Request::SetAttr(r) => {
                if let Some(mode) = r.changes.mode {
                    check_mode(mode, "mode")?;
                }
                Change::SetAttr {
                    ino: self.ino(&r.node)?,
                    changes: r.changes,
                    at: r.at,
                }
            }
            Request::Write(r) => self.write_change(r)?,
            Request::SetXattr(r) => Change::SetXattr {
                ino: self.ino(&r.node)?,
                name: decode(&r.name, "name")?,
                value: decode(r.value.as_deref().unwrap_or(""), "value")?,
                mode: match r.mode {
                    XattrSetMode::Any => XattrMode::Any,
                    XattrSetMode::Create => XattrMode::Create,
                    XattrSetMode::Replace => XattrMode::Replace,
                },
            },
            Request::RemoveXattr(r) => Change::RemoveXattr {
                ino: self.ino(&r.node)?,
                name: decode(&r.name, "name")?,
            },
            other => return Err(Error::invalid("ops", format!("{} is not a change", other.name()))),
        })
    }

    fn write_change(&self, r: WriteContent) -> Result<Change> {
        let chunks = r.chunks.iter().map(Chunk::from_wire).collect::<Result<Vec<_>>>()?;
        let base = match &r.base {
            Some(base) => Some(base.iter().map(Chunk::from_wire).collect::<Result<Vec<_>>>()?),
            None => None,
        };
        if let Some(then) = &r.then {
            if then.size.is_some() {
                return Err(Error::invalid(
                    "then",
                    "a new size is the write's `size`, not a change after it",
                ));
            }
            if let Some(mode) = then.mode {
                check_mode(mode, "then")?;
            }
        }
        Ok(Change::Write {
            ino: self.ino(&r.node)?,
            write: WriteChange {
                chunks,
                replace_all: r.replace_all,
                cut_at: r.cut_at,
                size: r.size,
                grow: r.grow,
                base,
                uploader: Some(self.session.0.id),
                then: r.then,
                at: r.at,
            },
        })
    }

    /// Applies one change alone; what it left of the inode it made or changed.
    async fn apply_one(&self, request: Request) -> Result<Option<Stat>> {
        let (at, change) = (self.reach(), self.change(made_now(request))?);
        let mut stats = self
            .state
            .meta(move |m| m.apply(at, None, std::slice::from_ref(&change)))
            .await?;
        Ok(stats.pop().flatten())
    }

    /// [`SessionService::apply_one`] of a change that leaves an inode.
    async fn apply_stat(&self, request: Request) -> Result<Stat> {
        self.apply_one(request)
            .await?
            .ok_or_else(|| Error::internal("a change that leaves an inode left none"))
    }

    /// A node made or linked in `parent`, with the directory's new attributes too: the
    /// kernel asks for them right after.
    async fn made(&self, parent: &NodeRef, request: Request) -> Result<Node> {
        let (at, parent) = (self.reach(), self.ino(parent)?);
        let stat = self.apply_stat(request).await?;
        let dir = self.state.meta(move |m| Ok(m.getattr(at, parent).ok())).await?;
        Ok(Node {
            parent: dir,
            ..self.session.node(stat)
        })
    }

    async fn content(&self, r: NodeOnly) -> Result<Content> {
        let (at, ino) = (self.reach(), self.ino(&r.node)?);
        let (stat, chunks) = self.state.meta(move |m| m.chunks(at, ino)).await?;
        let chunks = self
            .state
            .packs
            .inline(&self.state, &self.session.0.org, chunks)
            .await?;
        Ok(Content {
            stat,
            chunks: chunks
                .iter()
                .map(|c| c.to_wire().ok_or_else(|| Error::internal("a packed chunk left packed")))
                .collect::<Result<_>>()?,
        })
    }

    async fn write(&self, r: WriteContent) -> Result<Stat> {
        let durable = r.durable;
        let stat = self.apply_stat(Request::Write(r)).await?;
        if durable {
            self.state.meta(|m| m.sync()).await?;
        }
        Ok(stat)
    }

    async fn getxattr(&self, r: Xattr) -> Result<XattrValue> {
        let (at, ino, name) = (self.reach(), self.ino(&r.node)?, decode(&r.name, "name")?);
        let value = self.state.meta(move |m| m.get_xattr(at, ino, &name)).await?;
        Ok(XattrValue { value: encode(&value) })
    }

    async fn listxattr(&self, r: NodeOnly) -> Result<XattrNames> {
        let (at, ino) = (self.reach(), self.ino(&r.node)?);
        let names = self.state.meta(move |m| m.list_xattrs(at, ino)).await?;
        Ok(XattrNames {
            names: names.iter().map(|n| encode(n)).collect(),
        })
    }

    /// The volume's usage, bounded by its quota or by the room its organization's quota
    /// leaves, whichever is less; a subpath session sees none, since the rest of the volume
    /// is not its business (it would tell one tenant how much the others store).
    async fn statfs(&self) -> Result<FsStats> {
        if self.session.0.root_ino != strata_meta::ROOT_INO {
            return Ok(FsStats {
                used_bytes: 0,
                files: 0,
                quota_bytes: None,
                quota_files: None,
            });
        }
        let (org, vol) = (self.session.0.org.clone(), self.session.volume());
        let (v, o) = self
            .state
            .meta(move |m| Ok((m.get_volume(&org, &VolumeRef::Id(vol))?, m.get_org(&org).ok())))
            .await?;
        // The room the organization's quota leaves bounds the volume as its own quota does.
        let room = o.and_then(|o| Some(v.used_bytes + o.quota_bytes?.saturating_sub(o.used_bytes)));
        let quota_bytes = match (v.quota_bytes, room) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(FsStats {
            used_bytes: v.used_bytes,
            files: v.file_count,
            quota_bytes,
            quota_files: v.quota_files,
        })
    }

    async fn getlk(&self, r: LockRequest) -> Result<LockTest> {
        let (at, ino, owner) = (self.reach(), self.ino(&r.node)?, (self.session.0.id, r.owner));
        let conflict = self.state.meta(move |m| m.test_lock(at, ino, owner, &r.range)).await?;
        Ok(LockTest { conflict })
    }

    async fn setlk(&self, r: LockRequest) -> Result<()> {
        if r.range.start > r.range.end {
            return Err(Error::invalid("range", "a lock range starts before it ends"));
        }
        if r.range.kind == LockKind::Write {
            // As a file open read-only cannot be write-locked.
            self.session.writable()?;
        }
        let (at, ino, owner) = (self.reach(), self.ino(&r.node)?, (self.session.0.id, r.owner));
        match self.state.meta(move |m| m.set_lock(at, ino, owner, r.range)).await? {
            Some(held) => Err(Error::new(
                ErrorKind::Locked,
                format!("bytes {}..={} are locked by pid {}", held.start, held.end, held.pid),
            )),
            None => Ok(()),
        }
    }

    /// Stores one block; its bytes must hash to its name. The session remembers it has it,
    /// which is what lets a later write name it.
    pub async fn put_block(&self, hash: &str, data: Bytes) -> Result<()> {
        self.session.writable()?;
        let hash = parse_hash(hash)?;
        if data.len() as u64 > strata_core::BLOCK_SIZE {
            return Err(Error::new(ErrorKind::TooLarge, "a block is at most 4 MiB").with_field("body"));
        }
        let compression = self
            .state
            .compression_of(&self.session.0.org, self.session.volume())
            .await?;
        let domain = self.state.domain(&self.session.0.org).await?;
        let len = data.len() as u64;
        let sealing = domain.clone();
        let block = tokio::task::spawn_blocking(move || {
            let (actual, values) = strata_core::pieces::hash_block(&data);
            // Sealed only once it is known to be the block named.
            (*actual.as_bytes() == hash).then(|| Sealed::new(&hash, &data, &values, compression, &sealing))
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
        let Some(block) = block else {
            return Err(Error::invalid("body", "the block's bytes do not match its hash"));
        };
        let (stored, session) = (block.stored_len(), self.session.0.id);
        let copy = domain.org().map(str::to_owned);
        self.state
            .meta(move |m| m.touch_session_block(session, &hash, len, stored, copy.as_deref()))
            .await?;
        self.state.blocks.put(&domain, &hash, &block).await?;
        self.state.metrics.stored(len, stored);
        Ok(())
    }

    pub async fn get_block(&self, hash: &str) -> Result<Bytes> {
        let hash = self.readable_block(hash).await?;
        let (blocks, org) = (&self.state.blocks, &self.session.0.org);
        let read = |d| async move { blocks.get(&d, &hash).await };
        let bytes = found(self.state.vault.reading(&self.state.meta, org, read).await?)?;
        self.state.metrics.blocks_fetched.inc();
        self.state.metrics.block_bytes_fetched.inc_by(bytes.len() as u64);
        Ok(bytes)
    }

    /// Pieces `first..last` of a block, with the values of all its pieces so the reader can
    /// check them against the block's name: the block's size (8 bytes, little-endian), 32
    /// bytes a piece, then the pieces' bytes. Only blocks of two pieces or more.
    pub async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        if first >= last {
            return Err(Error::invalid("last", "the range of pieces is empty"));
        }
        let hash = self.readable_block(hash).await?;
        let (blocks, org, vault) = (&self.state.blocks, &self.session.0.org, &self.state.vault);
        let read = |d| async move { blocks.pieces(&d, &hash).await };
        let pieces = found(vault.reading(&self.state.meta, org, read).await?)?;
        let (size, values) = (pieces.0, &pieces.1);
        if values.len() < 2 {
            return Err(Error::invalid("hash", "a block of one piece is read whole"));
        }
        if last > values.len() {
            return Err(Error::invalid("last", format!("the block has {} pieces", values.len())));
        }
        let read = |d| async move { blocks.get_pieces(&d, &hash, first, last).await };
        let (_, data) = found(vault.reading(&self.state.meta, org, read).await?)?;
        self.state.metrics.blocks_fetched.inc();
        self.state.metrics.block_bytes_fetched.inc_by(data.len() as u64);
        let mut reply = strata_core::pieces::encode_head(size, values);
        reply.extend_from_slice(&data);
        Ok(reply.into())
    }

    /// The block a session names, if it may read it: only blocks of its volume (or its own
    /// uploads), with one answer for "not yours" and "not there", so no session learns what
    /// other volumes hold.
    async fn readable_block(&self, hex: &str) -> Result<BlockHash> {
        let hash = parse_hash(hex)?;
        let (vol, session) = (self.session.volume(), self.session.0.id);
        if !self
            .state
            .meta(move |m| m.session_may_read(vol, session, &hash))
            .await?
        {
            return Err(no_such_block());
        }
        Ok(hash)
    }
}

fn no_such_block() -> Error {
    Error::not_found("no such block")
}

/// A read from the store, a block missing from it being one this session cannot read.
fn found<T>(read: std::result::Result<T, BlockError>) -> Result<T> {
    match read {
        Err(BlockError::Missing(_)) => Err(no_such_block()),
        other => Ok(other?),
    }
}

/// The service as a mount in this process sees it: the session API without a network.
#[async_trait::async_trait]
impl strata_core::session::SessionApi for LiveSession {
    fn info(&self) -> &SessionInfo {
        &self.info
    }

    async fn call(&self, request: Request) -> Result<Reply> {
        self.service().serve(request).await
    }

    async fn renew(&self) -> Result<()> {
        super::renew(&self.state, &self.session).await
    }

    async fn close(&self) -> Result<()> {
        super::close(&self.state, &self.session).await
    }

    async fn put_block(&self, hash: &str, data: Bytes) -> Result<()> {
        self.service().put_block(hash, data).await
    }

    async fn get_block(&self, hash: &str) -> Result<Bytes> {
        self.service().get_block(hash).await
    }

    async fn get_pieces(&self, hash: &str, first: usize, last: usize) -> Result<Bytes> {
        self.service().get_pieces(hash, first, last).await
    }
}

/// A change made now, whatever time it says: a mount's own time for a change counts only
/// in the batches an owner ships (it made them earlier, while the server was not asked).
fn made_now(mut request: Request) -> Request {
    match &mut request {
        Request::Create(r) => (r.at, r.new.at) = (None, None),
        Request::Unlink(r) | Request::Rmdir(r) => r.at = None,
        Request::Rename(r) => r.at = None,
        Request::SetAttr(r) => r.at = None,
        Request::Write(r) => r.at = None,
        _ => {}
    }
    request
}
